package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
)

func init() { register(testSendCmd) }

func testSendCmd(app *App) *cobra.Command {
	var in core.TestSendInput
	var unattended bool
	cmd := &cobra.Command{
		Use:   "test-send ACCOUNT --to ADDRESS",
		Short: "Send one test message through an account (signs in first if needed)",
		Long: `test-send sends one message through ACCOUNT to check its settings and sign-in
(テスト送信), prints the server's final reply, and records the result.
Run it after every change to an account. With --unattended (timers, cron) it
never waits for a person: if a sign-in is needed it exits with code 4.`,
		Example: `  bluemoon test-send sales --to me@example.com
  bluemoon test-send sales --to me@example.com --charset iso-2022-jp --subject "テスト"`,
		Args: exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			in.Account, in.SignIn = args[0], app.signInHandler(unattended)
			res, err := svc.TestSend(ctx, in)
			if err != nil {
				return err
			}
			app.Printf("%s\n", res.Reply)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.To, "to", "", "recipient of the test message (required)")
	f.StringVar(&in.Subject, "subject", "", "subject (default: \"bluemoon テスト送信 / test send (ACCOUNT)\")")
	f.StringVar(&in.Text, "text", "", "body text (default: a short note saying where it came from)")
	f.StringVar(&in.Charset, "charset", "utf-8", "utf-8 or iso-2022-jp")
	f.BoolVar(&unattended, "unattended", false, "never wait for a person: exit 4 if a sign-in is needed")
	return cmd
}
