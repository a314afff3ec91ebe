package oauth

import (
	"fmt"
	"os/exec"
	"runtime"
)

// OpenBrowser opens url in the user's default browser: xdg-open on Linux
// and the BSDs, open on macOS, the URL protocol handler on Windows (start
// would need cmd.exe and mangles & in URLs).
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot open a browser (%s): %w", cmd.Path, err)
	}
	// Reap the opener without waiting for it: xdg-open may live as long as
	// the browser does.
	go cmd.Wait()
	return nil
}
