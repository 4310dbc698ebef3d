package codegen_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// webRoot is the npm workspace (web/) whose devDependencies hold the
// TypeScript compiler the tests use; @ssehub/node is one of its packages.
const webRoot = "../../web"

// tsc returns the path of the web workspace's tsc binary, installed with
// npm ci when needed. Without Node.js the test is skipped loudly, or fails
// when CI is set.
func tsc(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s", why)
		}
		t.Skipf("SKIPPING the TypeScript compile check: %s", why)
	}
	bin := webRoot + "/node_modules/.bin/tsc"
	if _, err := os.Stat(bin); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			missing("npm is not installed")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = webRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", webRoot, err, out)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("no tsc after npm ci: %v", err)
	}
	return abs
}

// compile runs tsc --strict --noEmit on files (name → source) in a
// temporary directory next to a copy of the golden events.gen.ts.
func compile(t *testing.T, bin string, files map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	gen, err := os.ReadFile(exampleGolden)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{`"events.gen.ts"`}
	if err := os.WriteFile(filepath.Join(dir, "events.gen.ts"), gen, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, `"`+name+`"`)
	}
	// tsc --strict, plus the stricter options of web/tsconfig.base.json.
	tsconfig := `{"compilerOptions": {"strict": true, "noEmit": true, "target": "ES2022", "module": "NodeNext",
  "moduleResolution": "NodeNext", "noUncheckedIndexedAccess": true, "exactOptionalPropertyTypes": true,
  "noUnusedLocals": true, "isolatedModules": true, "verbatimModuleSyntax": true, "types": []},
  "files": [` + strings.Join(names, ", ") + `]}`
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(tsconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", "tsconfig.json")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// usage exercises the generated types as the clients do.
const usage = `import type { EventMap, EventName, EventTargets, ChatMessage, NotificationNew, User } from './events.gen.js';

declare function emit<K extends EventName>(event: K, data: EventMap[K], target: EventTargets[K]): void;
declare function subscribe<K extends EventName>(event: K, handler: (data: EventMap[K]) => void): () => void;

const ann: User = { id: 'u1', name: 'Ann', avatarUrl: null };
emit('chat:message', { conversationId: 'c1', message: { id: 'm1', text: 'hi', sender: ann, sentAt: '2026-01-01T00:00:00Z' } }, 'channel');
emit('notification:new', { id: 'n1', title: 'Hi', action: { kind: 'link', url: '/x' }, from: null }, 'user');
emit('data:update', { entity: 'invoice', action: 'create', id: 42, data: { total: 1 } }, 'tenant');
emit('system:announcement', { message: 'Maintenance', type: 'warning' }, 'broadcast');
emit('invoice:created', {
  invoiceId: 'i1', number: 'INV-1', status: 'created', customer: { id: 'c', name: 'ACME' },
  total: { amount: 100, currency: 'EUR' },
  lines: [{ description: 'x', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }],
  metadata: { po: '7' },
}, 'tenant');

subscribe('chat:message', (m: ChatMessage) => {
  const text: string = m.message.text;
  const reply: string | null | undefined = m.message.replyTo;
  void text;
  void reply;
});
subscribe('notification:new', (n: NotificationNew) => {
  if (n.action?.kind === 'link') {
    const url: string = n.action.url; // narrowed by the const discriminator
    void url;
  }
});
subscribe('presence:update', (p) => {
  const s: 'online' | 'away' | 'busy' | 'offline' = p.status;
  void s;
});
`

func TestGeneratedCompiles(t *testing.T) {
	bin := tsc(t)
	if out, err := compile(t, bin, map[string]string{"usage.ts": usage}); err != nil {
		t.Fatalf("tsc --strict on the generated file and a program using it: %v\n%s", err, out)
	}
}

// TestWrongPayloadFailsTsc: the deliberately wrong payloads of the round
// trip must not compile (one tsc run, one file per payload).
func TestWrongPayloadFailsTsc(t *testing.T) {
	bin := tsc(t)
	head := "import type { EventMap, EventName } from './events.gen.js';\n" +
		"declare function emit<K extends EventName>(event: K, data: EventMap[K]): void;\n"
	cases := []struct{ name, line, want string }{
		{"wrong type", `emit('chat:typing', { conversationId: 'c1', userId: 'u1', isTyping: 'yes' });`, "not assignable to type 'boolean'"},
		{"missing field", `emit('notification:new', { id: 'n1' });`, "title"},
		{"unknown field", `emit('chat:typing', { conversationId: 'c1', userId: 'u1', isTyping: true, typo: 1 });`, "typo"},
		{"outside enum", `emit('presence:update', { userId: 'u1', status: 'asleep' });`, "asleep"},
		{"unknown event", `emit('chat:mesage', {});`, "chat:mesage"},
		{"bad union member", `emit('notification:new', { id: 'n', title: 't', action: { kind: 'link' } });`, "url"},
	}
	files := map[string]string{}
	for i, tc := range cases {
		files[fmt.Sprintf("wrong%d.ts", i)] = head + tc.line + "\n"
	}
	out, err := compile(t, bin, files)
	if err == nil {
		t.Fatal("tsc accepted every wrong payload")
	}
	for i, tc := range cases {
		var msg string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, fmt.Sprintf("wrong%d.ts(3,", i)) {
				msg = l
				break
			}
		}
		if msg == "" {
			t.Errorf("%s: tsc accepted %s\n%s", tc.name, tc.line, out)
		} else if !strings.Contains(out[strings.Index(out, msg):], tc.want) {
			t.Errorf("%s: got %s, want it to mention %q", tc.name, msg, tc.want)
		}
	}
}
