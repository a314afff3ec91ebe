package web_test

import "testing"

// suppressionScreens seeds and lists the do-not-mail list's screens.
func suppressionScreens(t *testing.T, c *console, ms *standIn) []screen { return nil }
