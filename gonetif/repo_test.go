package gonetif_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var outsideRE = regexp.MustCompile(`(?i)lab-facts|design decision [0-9]|idf-api\.md|\.\./shared/|/work/`)

// The repository explains itself: sources and documents cite only what is
// in it. A comment pointing at a note outside (a lab notebook, a design
// sketch kept elsewhere) fails here, and so does a citation of a
// docs/DESIGN.md decision that does not exist.
func TestCitationsStayInsideTheRepository(t *testing.T) {
	root := ".."
	design, err := os.ReadFile(filepath.Join(root, "docs", "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### (D[0-9]+)\.`).FindAllStringSubmatch(string(design), -1) {
		decisions[m[1]] = true
	}
	if len(decisions) < 10 {
		t.Fatalf("docs/DESIGN.md has %d decisions", len(decisions))
	}
	outside := outsideRE
	cite := regexp.MustCompile(`DESIGN\.md,? (D[0-9]+)`)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "build", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".c", ".h", ".cpp", ".md", ".sh", ".py", ".txt", ".in", ".cmake":
		default:
			if d.Name() != "CMakeLists.txt" && !strings.HasPrefix(path, filepath.Join(root, "scripts")) {
				return nil
			}
		}
		if strings.HasSuffix(path, "repo_test.go") || d.Name() == "CHANGELOG.md" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if outside.MatchString(line) && !snapshotInput(path, line) {
				t.Errorf("%s:%d cites something outside the repository: %s", path, i+1, strings.TrimSpace(line))
			}
			for _, m := range cite.FindAllStringSubmatch(line, -1) {
				if !decisions[m[1]] {
					t.Errorf("%s:%d cites docs/DESIGN.md %s, which does not exist", path, i+1, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d files checked", checked)
	}
}

// snapshotInput reports a test or CI script naming where the ESP-IDF
// snapshot lies beside a clone (CI provides it there): an input the
// scripts read, not a citation. Only that folder, only there.
func snapshotInput(path, line string) bool {
	rel, _ := filepath.Rel("..", path)
	top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
	if top != "tests" && top != "scripts" && top != ".ci" {
		return false
	}
	rest := strings.ReplaceAll(line, "../shared/idf", "")
	return rest != line && !outsideRE.MatchString(rest)
}

func TestLicenseIsApache2(t *testing.T) {
	data, err := os.ReadFile("../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability", "END OF TERMS AND CONDITIONS"} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q", want)
		}
	}
}
