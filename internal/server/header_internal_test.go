package server

import (
	"net/http"
	"testing"
)

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "Application/GRPC+json": true,
		"application/grpc;charset=utf-8": true, "application/grpc-web": false, "application/grpc-web+proto": false,
		"APPLICATION/GRPC-WEB-TEXT": false, "application/grp": false, "": false, "application/json": false,
	} {
		if got := isGRPC(ct); got != want {
			t.Errorf("isGRPC(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestHeaderValueReadsWhatNetHTTPStores(t *testing.T) {
	h := http.Header{}
	h.Set("grpc-timeout", "1S") // stored canonical, as net/http stores what it reads
	h.Add("Content-Type", "application/json")
	h.Add("Content-Type", "text/plain")
	for key, want := range map[string]string{"Grpc-Timeout": "1S", "Content-Type": "application/json", "Connect-Timeout-Ms": ""} {
		if got := headerValue(h, key); got != want || got != h.Get(key) {
			t.Errorf("headerValue(%q) = %q, want %q (Get: %q)", key, got, want, h.Get(key))
		}
	}
}
