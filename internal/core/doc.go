// Package core is bluemoon's service layer: every use case, as plain Go
// methods on one *Service per data home, for every face. The CLI
// (internal/cli) parses flags, calls these and prints; the web console
// (internal/web) reads a form, calls the same and renders a page. No logic
// lives only in a face.
//
// Core never prints and never asks a person anything. It returns typed
// results, reports progress through callbacks (SendEvents), warnings as
// values (Warning), and leaves decisions that need a person to the face:
// when an account needs a new sign-in it returns the *ReauthError, or asks
// the face's SignInHandler, which may sign the person in with StartSignIn.
//
// # Opening
//
//	svc, err := core.Open(ctx, core.Options{Home: dir})  // "" = $BLUEMOON_HOME or the user config folder
//	defer svc.Close()                                    // cancels sign-ins, pauses background deliveries
//
// Options also take the HTTP client for OAuth endpoints, the browser opener,
// the clock and the logger unattended jobs log to.
//
// # Accounts
//
//	svc.AddAccount(ctx, name, core.AccountInput{From: core.Ptr("a@example.com"), Credentials: core.Ptr("acme")})
//	svc.EditAccount(ctx, name, core.AccountInput{PerMinute: core.Ptr(10)})  // nil fields unchanged
//	svc.Accounts(ctx) / svc.Account(ctx, name)   // *AccountInfo: settings, Kind (password, google,
//	                                             // microsoft, generic, none), SignIn state, LastTestSend
//	svc.AccountDetail(ctx, name)                 // Account and its DailyTestSend from one reading (an account's page)
//	svc.RemoveAccount(ctx, name)
//
// AccountInput.Via is how messages leave: smtp, graph (Microsoft
// credentials) or gmail-api (Google); credentials of another provider than
// the one chosen (AccountInput.Provider), than the way's or than the
// server's (provider.HostProvider) are a *ProviderMismatchError (in a
// *FieldError, code provider_mismatch), and a change resets the limits to the way's preset (a Warning,
// WarnViaChanged). The token source, the sign-in's scopes and the
// transport's API endpoint follow the way (tokens.go).
//
// # Credential files (the admin's hidden screen, the user's import)
//
//	core.CredentialDefaults(provider, tenant)             // 既定値の設定: every field
//	svc.CreateCredentialFile(ctx, core.CreateInput{...})  // bytes to download / write, *CreatedFile (signer…)
//	svc.InspectCredentialFile(ctx, name, data, passphrase) // signer fingerprint, passphrase needed?, endpoints
//	svc.ImportCredentialFile(ctx, core.ImportInput{Data, Passphrase, Name, Trust, AcceptCustomEndpoints, Replace})
//	svc.ImportCredentialFileFor(ctx, account, in)         // import and take it, checked before anything is stored
//	svc.Credentials(ctx) / svc.Credential(ctx, name) / svc.RemoveCredentials(ctx, name)
//
// # Sign-in
//
//	sig, err := svc.StartSignIn(ctx, account, core.SignInOptions{Mode: core.SignInLink})
//	sig.Prompt.URL          // open it (the console: a new tab); a listener on 127.0.0.1 waits
//	sig.Wait(ctx) / sig.Result() / sig.Done() / sig.Cancel()   // *SignInResult: who signed in, mismatch…
//	svc.PendingSignIn(account)                     // one sign-in per account at a time
//	svc.SignOut(ctx, account)                      // deletes the tokens, revokes where the provider allows
//	svc.SignInStatus(ctx, account, check) / svc.SignInStates(ctx, check)   // auth status
//	svc.CheckSignIn(ctx, account, handler) / svc.RefreshSignIn(ctx, account, handler)
//
// A request to the sign-in's listener with a wrong state is refused,
// logged and told to SignInOptions.OnRefused; the sign-in goes on waiting.
// SignInBrowser opens the system browser, SignInDevice shows a code (Microsoft),
// SignInPaste takes the address the browser ended on (SignIn.Paste).
//
// # Test send
//
//	svc.TestSend(ctx, core.TestSendInput{Account, To, Subject, Text, Charset, SignIn})  // reply; recorded
//
// # Deliveries
//
//	svc.Send(ctx, in, events)            // blocking (the CLI): preflight, sign-in check, run
//	svc.StartDelivery(ctx, in)           // the same checks, then runs in the background; returns the ID
//	svc.Resume(ctx, id, in, events) / svc.StartResume(ctx, id, in)   // ResendUnknown for the uncertain rows
//	svc.WaitDelivery(ctx, id)            // a background run of this process
//	svc.DeliveryProgress(ctx, id)        // counts, rate, ETA, Live; "interrupted" if its process died
//	svc.PauseDelivery / CancelDelivery   // a running one stops after the messages in flight
//	svc.Deliveries(ctx) / svc.Delivery(ctx, id)
//	svc.ReportPage(ctx, id, delivery.ReportQuery{States, Search, After, Limit})   // paged, filtered
//	svc.Report(ctx, id, fn)              // every row, streamed (JSON export: exact)
//	svc.ReportCSV(ctx, id, w)            // the CSV export, formulas made text (csvsafe)
//	Progress.Cause / delivery.Summary.Cause   // why it stopped short (delivery.Cause…), stored where the run stops;
//	core.PauseCause(status, cause, reason)    // also reads the English reason of deliveries stopped before causes were kept
//	svc.SchedulerResumeOf(ctx, id) / Progress.Scheduler           // the scheduler's own test: non-nil when it resumes this one by itself, and how (when; Retrying: next try, give-up time)
//	svc.SchedulerResumes(ctx)                 // the same of every delivery at once, by ID (a listing)
//	SendResult.SchedulerResume                // the scheduler's job left it for the scheduler: say so, not "resume it"
//	core.LeftForScheduler(err) / SchedulerResume.Sentence()   // the same from the job's error: its log line, alert, serve's note
//	DeliveryCheck.Preflight.Problems / Notes  // each with Code (delivery.Code…), Value, Got, Want for a face's own words
//	svc.Preview(ctx, in)                 // the .eml one row would get
//
// Local problems (list, template, attachments, encoding, account settings)
// are reported before any network check. One delivery per account at a
// time, one process per delivery: see locks.go.
//
// # Saved deliveries, schedules, keep-alive, alerts
//
//	svc.SaveDelivery(ctx, d) / SavedDeliveries / SavedDelivery / RemoveSavedDelivery
//	svc.StartSaved(ctx, name) / CheckSaved / SavedInput   // a saved delivery run by hand in the background (the console's run now)
//	svc.SavedUsers(ctx, name)            // the schedules that run it; RemoveSavedDelivery refuses (*InUseError) while any do
//	svc.RunSaved(ctx, name, preflight, alert, events)   // `bluemoon run`: same checks as send, alerts
//	svc.AddSchedule / Schedules / Schedule / PauseSchedule / RemoveSchedule / RunSchedule
//	svc.Serve(ctx, core.ServeOptions{Once, Runner})     // the scheduler loop
//	svc.PlanInstall(install) / svc.InstallWrite(plan)   // cron line, systemd units, Task Scheduler
//	svc.KeepAlive(ctx, account, sendTest, handler) / svc.CheckTokenLifetimes(ctx, alert, now)
//	svc.RunJob(ctx, job, events)                        // any of the above, logged, alerting on failure
//	svc.CheckAlert(ctx, alertConfig)
//	svc.EditSchedule(ctx, name, in)                     // a new time counts from now: no made-up or "missed" runs
//	svc.AddDailyTestSend(ctx, account) / DailyTestSend  // the guide's daily automatic test send; once per account
//	svc.KeepAliveStates(ctx)                            // each OAuth account: last refresh, expiry, its daily test send
//	svc.ScheduleOverview(ctx)                           // Schedules and KeepAliveStates from one reading (a schedules page)
//	svc.AlertSettings(ctx) / SetAlertSettings(ctx, c)   // the home's alert destination: schedules without
//	                                                    // their own, serve / schedule run without --notify-*
//	svc.ServeRunning()                                  // does a scheduler hold this home's serve lock (never takes it)
//	svc.StartServe(ctx, opt) / StopServe() / ServeStatus()   // Serve in the background of this process until stopped
//	                                                    // or Close (the console's "run them here"); never a second one
//	schedule.Repeat{Every, Hour, Minute, Weekday, Day}.Cron() / schedule.RepeatOf(cron)   // form ⇄ cron line
//
// # Suppression
//
//	svc.Suppress(ctx, addr, reason) / Unsuppress / Suppressed(ctx, fn) / ImportSuppressions(ctx, path, reason, list)
//	svc.SuppressionPage(ctx, core.SuppressionQuery{Search, After, Before, Limit})  // by address, keyset-paged; Total, Offset, Next, Prev
//	svc.SuppressionCount(ctx)
//	svc.InspectPlainList(ctx, path)      // a do-not-mail file of one address per line (no header row); nil for a table
//	svc.SuppressionsCSV(ctx, w)          // the whole list as CSV, formulas made text (csvsafe); the face adds a BOM
//
// # Sandbox (bluemoon sandbox; outside core, calling it as a person would)
//
//	rehearsal.Prepare(dir)                          // marks a sandbox home; a real home is ErrNotSandbox
//	r, err := rehearsal.Start(ctx, svc, maxInbox)   // stand-ins at last run's ports; accounts google,
//	                                                // microsoft, relay made through svc when missing
//	r.Inbox.List(offset, limit) / r.Inbox.Get(id) / r.Inbox.Empty()   // what the stand-ins accepted,
//	                                                // decoded with message.Decode / DecodeHeader
//	r.Inbox.Newer(id)                               // how many arrived after a message (the Inbox page's poll)
//	rehearsal.Reset(dir)                            // removes a sandbox home, never another
//	web.Options{Sandbox: true, Inbox: r.Inbox}      // the banner on every page; /inbox
//
// # Errors
//
// Every error keeps the CLI's exit code (exitcode.For). Branch on:
//
//   - *FieldError: bad input; Field names the input ("from", "smtp_host",
//     "client_id", "tenant"…), Code what is wrong ("required", "invalid"…).
//     Exit 2.
//   - *NotFoundError (errors.Is(err, ErrNotFound)): the account, credentials,
//     delivery, saved delivery or schedule does not exist. Exit 2.
//   - *InUseError: a saved delivery that schedules run cannot be removed,
//     nor an account whose deliveries are unfinished; By names them
//     (Preparing: those still being prepared, in no list yet). Exit 2.
//   - *BusyError: the account is sending another delivery (exit 5; the new
//     one is left ready), the delivery runs in another process, a sign-in of
//     the account is already waiting, another scheduler runs (exit 2).
//   - *ReauthError (oauth's, untouched): a person must sign in. Exit 4.
//   - *SignInCheckError: the preflight could not sign in to the SMTP server.
//   - *OutcomeError: a delivery ran and ended short (failures 3, paused 5,
//     sign-in 4).
//   - *CustomEndpointsError, *delivery.ProblemsError, *transport.Error:
//     what they say.
//
// Other bad requests are *exitcode.UsageError (exit 2).
package core
