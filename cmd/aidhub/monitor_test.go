package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestMonitor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := env{}
	head, spouse := signalFamilies(t, e, dir)
	signals := strings.Join([]string{
		"source,external_id,household_external_id,person_resident_id,kind,date,status",
		"CIVIL_AFFAIRS,death-1,," + head + ",DEATH,2026-11-20,",
		"HRSS,job-1,," + spouse + ",EMPLOYMENT,2026-11-21,LOST_JOB",
	}, "\n") + "\n"
	mustRun(t, e, "import", "signals", "--data", dir, "--quiet", writeFile(t, "signals.csv", signals))

	r := mustRun(t, e, "monitor", "--data", dir, "--today", "2026-11-28")
	if !strings.HasPrefix(r.stdout, "monitored 2 households for 2026-11: ") {
		t.Fatalf("monitor: %s", r)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^MEMBER_DEATH +1 +家庭成员死亡$`),
		regexp.MustCompile(`(?m)^JOB_LOSS_WITH_DEPENDANTS +1 +有老幼家庭成员失业$`),
		regexp.MustCompile(`(?m)^NO_INCOME +0 +家庭收入中断$`),
		regexp.MustCompile(`(?m)^by severity: CRITICAL \d+, HIGH [1-9]\d*, MEDIUM [1-9]\d*, LOW 0$`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("monitor output does not match %s:\n%s", want, r.stdout)
		}
	}
	// The progress goes to stderr, phase by phase, and ends at 100 %.
	if !strings.Contains(r.stderr, "monitor evaluate: 2/2 (100%)") {
		t.Errorf("no progress on stderr:\n%s", r.stderr)
	}

	// The open warnings are not raised again.
	r = mustRun(t, e, "monitor", "--data", dir, "--quiet", "--today", "2026-11-28")
	if !strings.Contains(r.stdout, ": 0 warnings raised in ") || r.stderr != "" {
		t.Fatalf("second monitor: %s", r)
	}
}

func TestMonitorUsage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  env
		args []string
		want string
	}{
		{env{}, []string{"monitor", "now"}, "now"},
		{env{}, []string{"monitor", "--today", "2026-02-30"}, "--today"},
		{env{"AIDHUB_TODAY": "tomorrow"}, []string{"monitor"}, "AIDHUB_TODAY"},
		{env{"AIDHUB_ENV": "production"}, []string{"monitor", "--today", "2026-11-28"}, "production"},
	} {
		r := run(t, c.env, append(c.args, "--data", t.TempDir())...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("aidhub %s: want exit 2, got %s", strings.Join(c.args, " "), r)
			continue
		}
		if line := oneErrorLine(t, r); !strings.Contains(line, c.want) {
			t.Errorf("aidhub %s: %q does not mention %q", strings.Join(c.args, " "), line, c.want)
		}
	}
	r := run(t, env{"AIDHUB_DATABASE_URL": "mysql://x"}, "monitor", "--data", t.TempDir())
	if r.code != 1 || !strings.Contains(oneErrorLine(t, r), "postgres://") {
		t.Errorf("bad database URL: %s", r)
	}
}
