package plots

import (
	"fmt"
	"strings"
	"testing"
)

// TestMarkdownHTML: result tables become HTML tables (what an untrusted notebook shows), raw HTML
// in the text is escaped, and emphasis and code survive.
func TestMarkdownHTML(t *testing.T) {
	h, err := MarkdownHTML("Title\n\n| a | b |\n|---|---|\n| 1 ± 0.1 | *x* |\n\nnote with `code` and <script>alert(1)</script>\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<table>", "<th>a</th>", "<td>1 ± 0.1</td>", "<em>x</em>", "<code>code</code>", `class="scoresde-markdown"`} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "<script>") {
		t.Errorf("raw HTML passed through:\n%s", h)
	}
}

// A result table as the HTML an untrusted notebook shows.
func ExampleMarkdownHTML() {
	h, _ := MarkdownHTML("| SDE | SW2 |\n|---|---|\n| VP | 0.102 ± 0.026 |")
	fmt.Println(h)
	// Output:
	// <div class="scoresde-markdown"><table>
	// <thead>
	// <tr>
	// <th>SDE</th>
	// <th>SW2</th>
	// </tr>
	// </thead>
	// <tbody>
	// <tr>
	// <td>VP</td>
	// <td>0.102 ± 0.026</td>
	// </tr>
	// </tbody>
	// </table>
	// </div>
}
