// Command apicount counts the exported identifiers of each package of the
// module: exported top-level functions, types, constants and variables, plus
// the exported methods of exported types (with -members, also the exported
// struct fields and interface methods). It reads source
// with go/parser, skips _test.go files, internal/, examples/ and testdata, and
// prints one line per package and a total, so a change to the public surface
// can be measured before and after.
//
// With -list it also prints each counted name, so a change can see exactly
// what it adds or removes.
//
//	go run ./internal/cmd/apicount [-members] [-list] [dir]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var (
	withMembers = flag.Bool("members", false, "also count exported struct fields and interface methods")
	list        = flag.Bool("list", false, "print every counted name")
)

func main() {
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	counts, err := count(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apicount:", err)
		os.Exit(1)
	}
	pkgs := make([]string, 0, len(counts))
	total := 0
	for p, n := range counts {
		pkgs = append(pkgs, p)
		total += n
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		fmt.Printf("%5d  %s\n", counts[p], p)
	}
	fmt.Printf("%5d  total in %d packages\n", total, len(pkgs))
}

// skipDir reports directories whose packages are not public surface.
func skipDir(rel string) bool {
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		switch part {
		case "internal", "examples", "testdata", "bench", "vendor":
			return true
		}
		if strings.HasPrefix(part, ".") && part != "." {
			return true
		}
	}
	return false
}

func count(root string) (map[string]int, error) {
	counts := map[string]int{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && skipDir(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		names := exported(f)
		counts[pkg] += len(names)
		if *list {
			for _, n := range names {
				fmt.Printf("%s.%s\n", pkg, n)
			}
		}
		return nil
	})
	return counts, err
}

// exported lists one file's exported identifiers.
func exported(f *ast.File) []string {
	var n []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				n = append(n, d.Name.Name)
				continue
			}
			recv, ok := exportedRecv(d.Recv)
			if !ok {
				continue
			}
			n = append(n, recv+"."+d.Name.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					n = append(n, s.Name.Name)
					if *withMembers {
						for _, m := range members(s.Type) {
							n = append(n, s.Name.Name+"."+m)
						}
					}
				case *ast.ValueSpec:
					for _, name := range s.Names {
						if name.IsExported() {
							n = append(n, name.Name)
						}
					}
				}
			}
		}
	}
	return n
}

// members lists the exported fields of a struct and methods of an interface.
func members(t ast.Expr) []string {
	var list *ast.FieldList
	switch tt := t.(type) {
	case *ast.StructType:
		list = tt.Fields
	case *ast.InterfaceType:
		list = tt.Methods
	default:
		return nil
	}
	var n []string
	for _, f := range list.List {
		for _, name := range f.Names {
			if name.IsExported() {
				n = append(n, name.Name)
			}
		}
	}
	return n
}

func exportedRecv(r *ast.FieldList) (string, bool) {
	if len(r.List) == 0 {
		return "", false
	}
	t := r.List[0].Type
	for {
		switch tt := t.(type) {
		case *ast.StarExpr:
			t = tt.X
		case *ast.IndexExpr:
			t = tt.X
		case *ast.IndexListExpr:
			t = tt.X
		case *ast.Ident:
			return tt.Name, tt.IsExported()
		default:
			return "", false
		}
	}
}
