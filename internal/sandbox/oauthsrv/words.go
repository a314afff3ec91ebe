package oauthsrv

import (
	"net/http"

	"golang.org/x/text/language"

	"github.com/bluemoon-mail/bluemoon/internal/acceptlang"
)

// The stand-in's pages speak the browser's language, as Google's and
// Microsoft's do: Japanese when Accept-Language prefers it, English
// otherwise. These are the stand-in's own words (it plays another site),
// not the console's catalogue. The protocol's error codes and
// descriptions stay English, as the real servers send them.

// words are one language's texts of the consent, device-code and error pages.
type words struct {
	Lang, Title, Asks, Account, Allow, Cancel string
	Expired, ErrorTitle                       string
	DeviceTitle, Code, BadCode                string
	DeviceSignedIn, DeviceDeclined            string
}

var wordsEN = &words{
	Lang: "en", Title: "Sign in and allow access", Asks: "The application %s asks for:", Account: "Account", Allow: "Allow", Cancel: "Cancel",
	Expired: "This sign-in page has expired; start again from the application.", ErrorTitle: "Sign-in error",
	DeviceTitle: "Enter code", Code: "Code", BadCode: "That code is not valid or has expired.",
	DeviceSignedIn: "You have signed in to the application on your device. You may now close this window.",
	DeviceDeclined: "You declined to sign in to the application on your device.",
}

var wordsJA = &words{
	Lang: "ja", Title: "ログインしてアクセスを許可", Asks: "アプリケーション %s が次のアクセスを求めています:", Account: "アカウント", Allow: "許可", Cancel: "キャンセル",
	Expired: "このログイン画面は有効期限が切れました。アプリケーションからもう一度やり直してください。", ErrorTitle: "ログインエラー",
	DeviceTitle: "コードの入力", Code: "コード", BadCode: "このコードは無効か、有効期限が切れています。",
	DeviceSignedIn: "お使いのデバイスでアプリケーションにサインインしました。このウィンドウは閉じてかまいません。",
	DeviceDeclined: "お使いのデバイスでのアプリケーションへのサインインを拒否しました。",
}

// pageLangs defaults to English, as the real providers' pages do.
var pageLangs = acceptlang.New(language.English, language.Japanese)

// wordsFor is the page language the browser prefers.
func wordsFor(r *http.Request) *words {
	if pageLangs.Choose(r.Header.Get("Accept-Language")) == language.Japanese {
		return wordsJA
	}
	return wordsEN
}
