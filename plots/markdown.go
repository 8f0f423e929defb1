package plots

import (
	"bytes"
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders GitHub-flavoured Markdown (tables included) to HTML; raw HTML in the input is
// escaped, not passed through.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table))

// MarkdownHTML renders Markdown text (paragraphs, emphasis, code, lists and GitHub tables, as
// experiments.Table.String writes) as an HTML snippet for a notebook output.
func MarkdownHTML(md string) (string, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		return "", fmt.Errorf("rendering markdown: %w", err)
	}
	return `<div class="scoresde-markdown">` + buf.String() + `</div>`, nil
}

// ShowMarkdown displays Markdown text (for example a result table) in a GoNB notebook as one
// output holding text/html, text/markdown and text/plain. Jupyter drops a text/markdown output of
// an untrusted notebook (every notebook fresh from git) but shows sanitized HTML, so the HTML
// rendering is what readers see; a trusted notebook and nbconvert pick the same HTML, and plain
// text tools the Markdown. Outside a notebook it does nothing.
func ShowMarkdown(md string) error {
	if !gonbui.IsNotebook {
		return nil
	}
	h, err := MarkdownHTML(md)
	if err != nil {
		return err
	}
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		protocol.MIMETextHTML: h, protocol.MIMETextMarkdown: md, protocol.MIMETextPlain: md}})
	return nil
}
