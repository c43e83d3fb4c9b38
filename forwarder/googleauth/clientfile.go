package googleauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Client is an OAuth client as Google's downloaded client secret file
// (client_secret_....json) describes it.
type Client struct {
	ID, Secret        string
	AuthURL, TokenURL string
}

// ReadClientFile reads a client secret file downloaded from the Google
// Cloud console (APIs & Services > Credentials > OAuth client, Desktop
// app): {"installed": {...}}, or {"web": {...}} for a web client. The
// endpoints default to Google's when the file names none.
func ReadClientFile(path string) (Client, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Client{}, fmt.Errorf("googleauth: client secret file: %w", err)
	}
	type entry struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		AuthURI      string `json:"auth_uri"`
		TokenURI     string `json:"token_uri"`
	}
	var f struct {
		Installed *entry `json:"installed"`
		Web       *entry `json:"web"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Client{}, fmt.Errorf("googleauth: client secret file %s: not JSON: %w", path, err)
	}
	e := f.Installed
	if e == nil {
		e = f.Web
	}
	if e == nil || e.ClientID == "" || e.ClientSecret == "" {
		return Client{}, fmt.Errorf("googleauth: client secret file %s: %w", path,
			errors.New(`want {"installed": {"client_id": ..., "client_secret": ...}} as the Google Cloud console downloads it for a Desktop app OAuth client`))
	}
	c := Client{ID: e.ClientID, Secret: e.ClientSecret, AuthURL: e.AuthURI, TokenURL: e.TokenURI}
	if c.AuthURL == "" {
		c.AuthURL = DefaultAuthURL
	}
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
	return c, nil
}
