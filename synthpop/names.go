package synthpop

import (
	"math/rand/v2"
	"strings"
)

// Surnames common in Chongqing with rough relative frequencies: the
// national top names, with the south-western 谭, 冉, 向, 秦, 蒲, 牟, 税 and
// 母 weighted up.
var surnames = []struct {
	name   string
	weight float64
}{
	{"陈", 60}, {"李", 58}, {"王", 50}, {"刘", 50}, {"张", 48}, {"杨", 36}, {"黄", 22}, {"罗", 22},
	{"周", 20}, {"何", 18}, {"谭", 16}, {"吴", 15}, {"唐", 15}, {"冉", 12}, {"向", 12}, {"邓", 12},
	{"彭", 12}, {"曾", 11}, {"徐", 11}, {"胡", 11}, {"赵", 11}, {"谢", 10}, {"蒋", 10}, {"熊", 10},
	{"秦", 9}, {"余", 9}, {"朱", 9}, {"田", 9}, {"汪", 8}, {"魏", 8}, {"廖", 8}, {"马", 8},
	{"孙", 8}, {"郭", 8}, {"袁", 8}, {"冯", 7}, {"郑", 7}, {"蒲", 7}, {"杜", 7}, {"龚", 7},
	{"程", 6}, {"肖", 6}, {"文", 6}, {"石", 6}, {"任", 6}, {"付", 6}, {"苏", 5}, {"游", 5},
	{"聂", 5}, {"谷", 4}, {"牟", 4}, {"卢", 4}, {"夏", 4}, {"邹", 4}, {"范", 4}, {"雷", 4},
	{"贺", 4}, {"段", 4}, {"陶", 4}, {"易", 4}, {"钟", 4}, {"姚", 4}, {"潘", 4}, {"梁", 4},
	{"韩", 4}, {"高", 4}, {"林", 4}, {"蔡", 4}, {"金", 3}, {"宋", 3}, {"沈", 3}, {"许", 3},
	{"况", 3}, {"庞", 3}, {"覃", 3}, {"甘", 3}, {"代", 3}, {"江", 3}, {"邱", 3}, {"黎", 3},
	{"梅", 2}, {"屈", 2}, {"喻", 2}, {"幸", 2}, {"税", 2}, {"母", 2}, {"隆", 2}, {"简", 2},
}

// Characters of given names by sex and generation: names changed with the
// times (建国 and 秀英 for those born before 1970, 梓涵 after 1995).
var givenChars = [2][3][]string{
	{ // men
		split("德明华国建军文平富贵成福林强兴元光中忠正荣发清云海勇伟志良才永生春树顺昌学"),
		split("涛波军伟勇强磊斌杰鹏刚超辉林洪平俊健明亮飞浩东川江松涛毅"),
		split("子轩浩宇睿博文俊杰梓涵一航泽晨铭昊然天宸奕锦嘉豪"),
	},
	{ // women
		split("秀英兰桂芳珍玉华凤琼群淑素翠莲菊梅芬琴霞敏蓉碧春秋月惠容萍"),
		split("丽娟静燕敏艳玲霞婷红梅琳芳倩雪莉佳晓丹萍琴慧"),
		split("欣怡梓涵诗雨萱思佳可馨语若紫琪悦妍心一晨瑶"),
	},
}

func split(s string) []string { return strings.Split(s, "") }

type namer struct {
	surname picker
}

func newNamer() *namer {
	w := make([]float64, len(surnames))
	for i, s := range surnames {
		w[i] = s.weight
	}
	return &namer{surname: newPicker(w)}
}

// family draws a surname.
func (n *namer) family(r *rand.Rand) string { return surnames[n.surname.pick(r)].name }

// given draws a given name of one or two characters for a person born in
// year.
func (n *namer) given(r *rand.Rand, female bool, year int) string {
	sex := 0
	if female {
		sex = 1
	}
	gen := 1
	switch {
	case year < 1970:
		gen = 0
	case year >= 1995:
		gen = 2
	}
	chars := givenChars[sex][gen]
	first := chars[r.IntN(len(chars))]
	if r.IntN(4) == 0 {
		return first
	}
	second := chars[r.IntN(len(chars))]
	if second == first && r.IntN(3) != 0 {
		second = chars[r.IntN(len(chars))]
	}
	return first + second
}
