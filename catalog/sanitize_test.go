package catalog_test

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/catalog"
)

// xss are real payloads: script tags, event handler attributes,
// javascript: URLs, SVG onload, and nested, encoded and mutation variants.
var xss = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<<script>script>alert(1)<</script>/script>`,
	`<script/xss src=//evil.example></script>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="x" onerror="alert(document.cookie)">`,
	`<IMG SRC=x OnErRoR=alert(1)>`,
	`<img src=x onerror=alert(1)//`,
	"<img src=x\nonerror=alert(1)>",
	`<img """><script>alert(1)</script>">`,
	`<a href="javascript:alert(1)">click</a>`,
	`<a href="JaVaScRiPt:alert(1)">click</a>`,
	`<a href=" javascript:alert(1)">click</a>`,
	`<a href="jav&#x09;ascript:alert(1)">click</a>`,
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">click</a>`,
	`<a href="&#x6A;avascript:alert(1)">click</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<svg onload=alert(1)>`,
	`<svg/onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<object data="javascript:alert(1)"></object>`,
	`<embed src="javascript:alert(1)">`,
	`<body onload=alert(1)>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<div style="width: expression(alert(1))">x</div>`,
	`<input autofocus onfocus=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<form action="javascript:alert(1)"><button>x</button></form>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	`<link rel=stylesheet href="javascript:alert(1)">`,
	`<p title="</p><script>alert(1)</script>">x</p>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<style>@import 'javascript:alert(1)';</style>`,
	`"><script>alert(1)</script>`,
	`'';!--"<XSS>=&{()}`,
	`<a href="#" onclick="alert(1)">x</a>`,
	`<video><source onerror="alert(1)"></video>`,
	`<marquee onstart=alert(1)>x</marquee>`,
	`<isindex type=image src=1 onerror=alert(1)>`,
	`<img src=x:alert(alt) onerror=eval(src) alt=0>`,
}

var (
	// An HTML tag that executes or loads code.
	dangerousTag = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|svg|math|style|link|meta|base|form|input|body|marquee|video|source|isindex|noscript)\b`)
	// An attribute that runs script: on*= inside a tag.
	handlerAttr = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	// A script URL in an attribute, after entity decoding.
	scriptURL = regexp.MustCompile(`(?i)(href|src|action|data|formaction|xlink:href)\s*=\s*["']?\s*(javascript|vbscript|data):`)
)

func assertSafe(t *testing.T, policy, in, out string) {
	t.Helper()
	decoded := html.UnescapeString(strings.ReplaceAll(out, "\t", ""))
	if dangerousTag.MatchString(out) || handlerAttr.MatchString(out) || scriptURL.MatchString(decoded) || scriptURL.MatchString(out) {
		t.Errorf("%s(%q) = %q: still dangerous", policy, in, out)
	}
	if strings.Contains(strings.ToLower(decoded), "expression(") && strings.Contains(out, "style=") {
		t.Errorf("%s(%q) = %q: CSS expression survived", policy, in, out)
	}
	if policy == catalog.PolicyStrict && strings.ContainsAny(out, "<>") {
		t.Errorf("strict(%q) = %q: want no markup at all", in, out)
	}
	again, _ := catalog.Sanitize(policy, out)
	if again != out {
		t.Errorf("%s is not idempotent on %q: %q then %q", policy, in, out, again)
	}
}

func TestSanitizeXSS(t *testing.T) {
	for _, policy := range []string{catalog.PolicyStrict, catalog.PolicyUGC} {
		for _, in := range xss {
			out, err := catalog.Sanitize(policy, in)
			if err != nil {
				t.Fatal(err)
			}
			assertSafe(t, policy, in, out)
		}
	}
}

func TestSanitizeKeepsSafeContent(t *testing.T) {
	for _, tc := range []struct{ policy, in, want string }{
		{catalog.PolicyUGC, `<b>bold</b> and <i>italic</i>`, `<b>bold</b> and <i>italic</i>`},
		{catalog.PolicyUGC, `<a href="https://example.com/x">link</a>`, `<a href="https://example.com/x" rel="nofollow">link</a>`},
		{catalog.PolicyUGC, `<p>one</p><ul><li>two</li></ul>`, `<p>one</p><ul><li>two</li></ul>`},
		{catalog.PolicyUGC, `<img src=x onerror=alert(1)>hi`, `<img src="x">hi`},
		{catalog.PolicyUGC, `<a href="javascript:alert(1)">click</a>`, `click`},
		{catalog.PolicyStrict, `<b>bold</b> text`, `bold text`},
		{catalog.PolicyStrict, `Tom & Jerry`, `Tom &amp; Jerry`},
		{catalog.PolicyStrict, `plain text, no markup`, `plain text, no markup`},
		{catalog.PolicyStrict, `Ciao, è già l'ora`, `Ciao, è già l&#39;ora`},
		{catalog.PolicyStrict, `<script>alert(1)</script>after`, `after`},
	} {
		got, err := catalog.Sanitize(tc.policy, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s(%q): got %q, %v, want %q", tc.policy, tc.in, got, err, tc.want)
		}
	}
	if _, err := catalog.Sanitize("html", "x"); err == nil {
		t.Error("unknown policy: got no error")
	}
}

// TestValidateSanitizes checks the fields of a payload are cleaned in
// place: other bytes, key order included, are kept.
func TestValidateSanitizes(t *testing.T) {
	c := example(t)
	for _, in := range xss {
		data, _ := json.Marshal(map[string]any{"id": "n1", "title": in, "message": in})
		got, err := c.Validate(context.Background(), "notification:new", data)
		if err != nil {
			if strings.Contains(err.Error(), "/title: minLength") {
				continue // a title that is all markup is empty once sanitized: refused
			}
			t.Fatalf("%q: %v", in, err)
		}
		var out struct{ ID, Title, Message string }
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		assertSafe(t, catalog.PolicyStrict, in, out.Title)
		assertSafe(t, catalog.PolicyUGC, in, out.Message)
	}

	in := `{ "title" : "<b>Hi</b> & bye", "id":"n1",  "message": "<i>ok</i><script>x</script>", "type":"info" }`
	got, err := c.Validate(context.Background(), "notification:new", json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{ "title" : "Hi &amp; bye", "id":"n1",  "message": "<i>ok</i>", "type":"info" }`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSanitizePaths(t *testing.T) {
	var c catalog.Catalog
	err := c.AddEvent(catalog.Event{
		Name: "thread:posted",
		Sanitize: map[string]string{
			"/posts/*/body":      catalog.PolicyUGC,
			"posts.*.author":     catalog.PolicyStrict,
			"/meta/a~1b":         catalog.PolicyStrict,
			"tags.*":             catalog.PolicyStrict,
			"labels.*":           catalog.PolicyStrict,
			"posts.0.body":       catalog.PolicyStrict, // stricter wins for post 0
			"missing.everywhere": catalog.PolicyStrict,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"posts":[{"body":"<b>a</b><script>1</script>","author":"<i>x</i>","n":1},{"body":"<b>b</b>","author":"y","n":2.50}],` +
		`"meta":{"a/b":"<u>u</u>","ab":"<u>kept</u>"},"tags":["<b>t</b>",1,null,{"x":"<b>y</b>"}],"labels":{"k":"<s>v</s>"},"n":"<b>unlisted</b>","esc":"\u003cb\u003e\"q\"\\"}`
	got, err := c.Validate(context.Background(), "thread:posted", json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"posts":[{"body":"a","author":"x","n":1},{"body":"<b>b</b>","author":"y","n":2.50}],` +
		`"meta":{"a/b":"u","ab":"<u>kept</u>"},"tags":["t",1,null,{"x":"<b>y</b>"}],"labels":{"k":"v"},"n":"<b>unlisted</b>","esc":"\u003cb\u003e\"q\"\\"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	clean := json.RawMessage(`{"posts":[{"body":"fine","author":"ok"}]}`)
	got, _ = c.Validate(context.Background(), "thread:posted", clean)
	if &got[0] != &clean[0] {
		t.Error("clean data: got a copy, want the same bytes back")
	}
}
