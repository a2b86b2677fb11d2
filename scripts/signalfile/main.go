// Command signalfile writes a CSV file of signals about the households and
// persons of a store, for timing `aidhub import signals` on a synthetic
// population (aidhub bench generate). About 70 % are monthly INCOME and
// 10 % MEDICAL_SPENDING signals naming the household by number, 20 %
// EMPLOYMENT and HOSPITALISATION signals naming a person by resident ID,
// as another department would: the numbers are opened with the store's
// key. Dates fall in the year before today; external IDs are
// bench-<seed>-<n>, so a second file with another seed adds new signals.
//
//	AIDHUB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/aidhub_x \
//	  go run ./scripts/signalfile --data DIR --signals 500000 > signals.csv
//
// A tool for benchmarks: it reads casework's tables directly and prints
// resident IDs of the (synthetic) population; never run it on real data.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/secret"
)

func main() {
	dataDir := flag.String("data", "data", "folder of the key file (and of the SQLite database)")
	n := flag.Int("signals", 500_000, "signals to write")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(context.Background(), *dataDir, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "signalfile:", err)
		os.Exit(1)
	}
}

type person struct {
	id, household int64
	residentID    string
}

func run(ctx context.Context, dataDir string, n int, seed uint64) error {
	d, err := db.Open(ctx, db.Config{URL: os.Getenv("AIDHUB_DATABASE_URL"), DataDir: dataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	keys, err := secret.Load(os.Getenv("AIDHUB_SECRET"), dataDir)
	if err != nil {
		return err
	}
	var households []int64
	if err := d.NewSelect().TableExpr("households").Column("id").OrderExpr("id").Scan(ctx, &households); err != nil {
		return fmt.Errorf("read households: %w", err)
	}
	var rows []struct {
		ID               int64
		HouseholdID      int64
		ResidentIDIndex  []byte
		ResidentIDSealed []byte
	}
	if err := d.NewSelect().TableExpr("persons").ColumnExpr("id, household_id, resident_id_index, resident_id_sealed").
		OrderExpr("id").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read persons: %w", err)
	}
	if len(households) == 0 || len(rows) == 0 {
		return fmt.Errorf("the store has no households: run aidhub bench generate first")
	}
	persons := make([]person, len(rows))
	for i, r := range rows {
		plain, err := keys.Open(r.ResidentIDSealed, r.ResidentIDIndex)
		if err != nil {
			return fmt.Errorf("open a resident ID: %w (is --data the store's key folder?)", err)
		}
		persons[i] = person{r.ID, r.HouseholdID, string(plain)}
	}

	rng := rand.New(rand.NewPCG(seed, 14))
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	w := csv.NewWriter(out)
	_ = w.Write([]string{"source", "external_id", "household", "person_resident_id", "kind", "date", "amount_yuan", "status"})
	for i := range n {
		ext := "bench-" + strconv.FormatUint(seed, 10) + "-" + strconv.Itoa(i)
		day := today.AddDate(0, 0, -1-rng.IntN(365)).Format("2006-01-02")
		switch k := rng.IntN(10); {
		case k < 7:
			hh := households[rng.IntN(len(households))]
			yuan := fmt.Sprintf("%d.%02d", 500+rng.IntN(6000), rng.IntN(100))
			_ = w.Write([]string{"HRSS", ext, strconv.FormatInt(hh, 10), "", "INCOME", day, yuan, ""})
		case k < 8:
			hh := households[rng.IntN(len(households))]
			yuan := fmt.Sprintf("%d.%02d", rng.IntN(20000), rng.IntN(100))
			_ = w.Write([]string{"MEDICAL_INSURANCE", ext, strconv.FormatInt(hh, 10), "", "MEDICAL_SPENDING", day, yuan, ""})
		case k < 9:
			p := persons[rng.IntN(len(persons))]
			status := []string{"EMPLOYED", "LOST_JOB", "REEMPLOYED"}[rng.IntN(3)]
			_ = w.Write([]string{"HRSS", ext, "", p.residentID, "EMPLOYMENT", day, "", status})
		default:
			p := persons[rng.IntN(len(persons))]
			_ = w.Write([]string{"MEDICAL_INSURANCE", ext, "", p.residentID, "HOSPITALISATION", day, "", ""})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return out.Flush()
}
