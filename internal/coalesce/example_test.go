package coalesce_test

import (
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/hellorpc/hellorpc/internal/coalesce"
)

// Wrap the listener that an http.Server serves: HTTP/2 connections then
// coalesce their writes, and every connection gets the write timeout.
func ExampleNewListener() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Protocols: protocols,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello over %s", r.Proto)
		}),
	}
	go srv.Serve(coalesce.NewListener(ln, coalesce.Options{}))
	defer srv.Close()

	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: h2c}}
	res, err := client.Get("http://" + ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output: hello over HTTP/2.0
}
