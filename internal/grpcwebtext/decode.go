package grpcwebtext

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"connectrpc.com/connect"
)

// decoder reads a body that is a sequence of base64 chunks, each
// independently padded, and returns the decoded bytes. Chunks may be split
// across reads anywhere.
type decoder struct {
	src     io.ReadCloser
	in      [4096]byte
	quantum [4]byte // an incomplete 4-character quantum carried between reads
	nq      int
	out     []byte // decoded bytes not yet returned
	offset  int64  // how many body bytes were consumed, for error messages
	err     error
}

func newDecoder(src io.ReadCloser) *decoder {
	return &decoder{src: src}
}

func (d *decoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.src.Read(d.in[:])
		d.decode(d.in[:n])
		if err != nil && d.err == nil {
			if errors.Is(err, io.EOF) && d.nq != 0 {
				err = invalid(d.offset, "the body ends inside a 4-character base64 group")
			}
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// decode appends the decoded form of the whole quanta in chunk to d.out and
// keeps a trailing partial quantum for the next read.
func (d *decoder) decode(chunk []byte) {
	d.out = d.out[:0]
	for _, c := range chunk {
		if d.err != nil {
			return
		}
		d.quantum[d.nq] = c
		d.nq++
		d.offset++
		if d.nq < 4 {
			continue
		}
		d.nq = 0
		var buf [3]byte
		n, err := base64.StdEncoding.Decode(buf[:], d.quantum[:])
		if err != nil {
			d.err = invalid(d.offset-4, fmt.Sprintf("%q is not base64", d.quantum[:]))
			return
		}
		d.out = append(d.out, buf[:n]...)
	}
}

func (d *decoder) Close() error {
	return d.src.Close()
}

// invalid is the error for bad base64 at body byte offset.
func invalid(offset int64, what string) error {
	return connect.NewError(connect.CodeInvalidArgument,
		fmt.Errorf("invalid base64 in grpc-web-text request body at byte %d: %s", offset, what))
}
