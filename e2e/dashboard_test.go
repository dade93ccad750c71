package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browserPath is a headless-capable Chromium, or "" when none is
// installed. Without one the browser test skips, unless
// KUMO_TEST_REQUIRE_BROWSER is set (scripts/test sets it, so CI cannot
// skip it silently).
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("KUMO_TEST_REQUIRE_BROWSER") != "" {
		t.Fatal("KUMO_TEST_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium, or run scripts/test)")
	}
	t.Skip("no chromium installed: the dashboard's browser test needs Debian's chromium package (scripts/test installs it)")
	return ""
}

// artifactsDir is where failing browser tests leave screenshots and
// pages: $KUMO_TEST_ARTIFACTS, by default test-artifacts/ at the repo root.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("KUMO_TEST_ARTIFACTS"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "test-artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newBrowser starts headless Chromium for the test; when the test fails,
// the page it was on is saved (PNG and HTML) under artifactsDir.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := browserPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// About 12 s alone; the bound leaves room for a CI machine running
	// four e2e tests at once.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// Cleanups run last first: this one, with the browser still up.
	t.Cleanup(func() {
		if t.Failed() {
			saveArtifacts(t, ctx)
		}
	})
	// Start the browser now, so its start is not counted in a step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Confirm dialogs (delete) are accepted.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

func saveArtifacts(t *testing.T, ctx context.Context) {
	dir := artifactsDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	// The test's context may have timed out, and a page caught between
	// two documents can keep a command waiting: each try gets its own
	// short context, and a few tries.
	var png []byte
	var html, loc string
	for try := 0; try < 3 && (png == nil || html == ""); try++ {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*time.Second)
		if png == nil {
			if shot, err := chromedp.Call(cctx, page.CaptureScreenshot, page.CaptureScreenshotParams{}); err == nil {
				png = shot.Data
			} else {
				t.Logf("artifacts: screenshot: %v", err)
			}
		}
		if html == "" {
			loc, _ = chromedp.Run(cctx, chromedp.Location())
			html, _ = chromedp.Run(cctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
		}
		cancel()
	}
	base := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	for ext, b := range map[string][]byte{".png": png, ".html": []byte(html)} {
		if len(b) == 0 {
			continue
		}
		if err := os.WriteFile(base+ext, b, 0o644); err != nil {
			t.Logf("artifacts: %v", err)
			continue
		}
		t.Logf("artifact (page %s): %s", loc, base+ext)
	}
}

// step runs browser actions, failing the test with what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitText polls sel's text until it matches want (without reloading:
// the page's own script updates it). A read that fails (the element
// gone while the browser swaps documents after a form) is tried again.
func waitText(t *testing.T, ctx context.Context, sel string, want func(string) bool, what string) string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var text string
	var err error
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		text, err = chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && want(strings.TrimSpace(text)) {
			return text
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: %s shows %q (last error: %v)", what, sel, text, err)
	return ""
}

// TestDashboardBrowser drives the dashboard in headless Chromium: log in,
// pick the project, launch a server and watch it become ACTIVE without
// reloading, reboot it, read its console log, delete it.
func TestDashboardBrowser(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := Start(t, kumoBin, Options{Args: []string{"--fake-delay", "1s"}})
	ctx := newBrowser(t) // after kumo's start, which its timeout must not count
	c := NewClients(t, s.CloudsFile(), "kumo")
	base := s.URL + "/dashboard/"

	step(t, ctx, "log in",
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#login-password")),
		chromedp.SendKeys(chromedp.CSS(`#login-password input[name="user"]`), c.Auth.Username),
		chromedp.SendKeys(chromedp.CSS(`#login-password input[name="password"]`), c.Auth.Password),
		chromedp.Submit(chromedp.CSS(`#login-password`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-project="admin"]`)),
		chromedp.Click(chromedp.CSS(`button[data-project="admin"]`)),
		chromedp.WaitVisible(chromedp.CSS("#servers")),
	)
	who := text(t, ctx, "#who")
	if !strings.Contains(who, c.Auth.Username) {
		t.Errorf("header shows %q, want the user %s", who, c.Auth.Username)
	}

	step(t, ctx, "launch a server",
		chromedp.Click(chromedp.CSS("#launch")),
		chromedp.WaitVisible(chromedp.CSS("#create-server")),
		chromedp.SendKeys(chromedp.CSS(`#create-server input[name="name"]`), "browser-vm"),
		chromedp.SetValue(chromedp.CSS(`#create-server select[name="flavor"]`), "1"),
		chromedp.Submit(chromedp.CSS("#create-server")),
		chromedp.WaitVisible(chromedp.CSS("#server")),
	)
	t.Logf("status after create: %s", text(t, ctx, "#status"))
	waitText(t, ctx, "#status", func(s string) bool { return s == "ACTIVE" }, "wait for ACTIVE")
	waitText(t, ctx, "#task_state", func(s string) bool { return s == "" }, "wait for no task")

	step(t, ctx, "reboot",
		chromedp.WaitEnabled(chromedp.CSS(`button[data-action="reboot-soft"]`)),
		chromedp.Click(chromedp.CSS(`button[data-action="reboot-soft"]`)),
	)
	// The page before the click has a flash too (the launch's): wait for
	// the answer's.
	waitText(t, ctx, "#flash", func(s string) bool { return s == "Soft reboot: accepted." }, "reboot accepted")
	waitText(t, ctx, "#status", func(s string) bool { return s == "ACTIVE" }, "wait for ACTIVE after the reboot")
	waitText(t, ctx, "#history", func(s string) bool { return strings.Contains(s, "reboot") }, "reboot in the history")
	serverPage, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("server page's location: %v", err)
	}
	if os.Getenv("KUMO_UPDATE_DOCS") != "" {
		screenshotServers(t, ctx, base+"servers", filepath.Join("..", "docs", "dashboard.png"))
	}
	// The request inspector lists the reboot (the dashboard's call to
	// the compute API) and links its instance action.
	step(t, ctx, "request inspector",
		chromedp.Navigate(base+"admin/requests?method=POST&path=/action"),
		chromedp.WaitVisible(chromedp.CSS("#requests")),
	)
	id := strings.TrimPrefix(serverPage, base+"servers/")
	if got := text(t, ctx, "#requests"); !strings.Contains(got, "POST /v2.1/servers/"+id+"/action") {
		t.Errorf("the inspector lacks the reboot of %s:\n%s", id, got)
	}
	step(t, ctx, "back to the server", chromedp.Navigate(serverPage), chromedp.WaitVisible(chromedp.CSS("#server")))

	step(t, ctx, "console log",
		chromedp.Click(chromedp.CSS("#console-log")),
		chromedp.WaitVisible(chromedp.CSS("#log")),
	)
	t.Logf("console log: %d bytes", len(text(t, ctx, "#log")))

	step(t, ctx, "delete",
		chromedp.Navigate(serverPage),
		chromedp.WaitVisible(chromedp.CSS(`button[data-action="delete"]`)),
		chromedp.Click(chromedp.CSS(`button[data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS("#servers")),
	)
	waitText(t, ctx, "#flash", func(s string) bool { return s == "Server deletion accepted." }, "deletion accepted")
	// The list's script marks the row gone once the API no longer lists it.
	step(t, ctx, "wait for the server to go",
		chromedp.WaitVisible(chromedp.CSS(`#servers tr.gone`)))

	// An image through the upload form: the script creates the record,
	// then streams the file with a progress bar and reloads the list.
	file := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(file, make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "upload an image",
		chromedp.Navigate(base+"images"),
		chromedp.WaitVisible(chromedp.CSS("#upload")),
		chromedp.SendKeys(chromedp.CSS(`#upload input[name="name"]`), "browser-image"),
		chromedp.SetValue(chromedp.CSS(`#upload select[name="disk_format"]`), "raw"),
		chromedp.SetUploadFiles(chromedp.CSS(`#upload input[type="file"]`), []string{file}),
		chromedp.Click(chromedp.CSS(`#upload button[type="submit"]`)),
	)
	waitText(t, ctx, "#images", func(s string) bool {
		return strings.Contains(s, "browser-image") && strings.Contains(s, "active") && strings.Contains(s, "3.0 MiB")
	}, "the uploaded image in the list")
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// screenshotServers writes a PNG of the servers page, at a modest
// window size, to file (the README's picture of the dashboard).
func screenshotServers(t *testing.T, ctx context.Context, url, file string) {
	t.Helper()
	step(t, ctx, "servers page for the screenshot",
		chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#servers")))
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride,
		emulation.SetDeviceMetricsOverrideParams{Width: 1024, Height: 300, DeviceScaleFactor: 1}); err != nil {
		t.Fatalf("window size for the screenshot: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		t.Fatalf("window size after the screenshot: %v", err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", file, len(png))
}

// text is sel's text now.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}
