package base

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/walletd/walletd/spec"
)

// TestNullableParam: an explicit null leaves a nullable parameter at its
// zero value (Python's None) while an absent one takes the default.
func TestNullableParam(t *testing.T) {
	type args struct {
		Expiry *json.Number `rpc:"expiry,nullable" default:"3600"`
		Memo   string       `rpc:"memo" default:"\"x\""`
	}
	params, err := paramsOf(reflect.TypeFor[args]())
	if err != nil {
		t.Fatal(err)
	}
	bindJSON := func(raw string) args {
		t.Helper()
		p, err := splitParams(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		v, err := bind(reflect.TypeFor[args](), params, p)
		if err != nil {
			t.Fatal(err)
		}
		return v.Interface().(args)
	}
	if a := bindJSON(`{}`); a.Expiry == nil || a.Expiry.String() != "3600" || a.Memo != "x" {
		t.Fatalf("absent: %+v", a)
	}
	if a := bindJSON(`{"expiry": null, "memo": null}`); a.Expiry != nil || a.Memo != "x" {
		t.Fatalf("null: expiry %v, memo %q (null keeps the default where not nullable)", a.Expiry, a.Memo)
	}
	if a := bindJSON(`[0]`); a.Expiry == nil || a.Expiry.String() != "0" {
		t.Fatalf("0: %+v", a)
	}
}

// TestErrorMappingMessage: a mapping's phrase starts the message unless
// the error already says it.
func TestErrorMappingMessage(t *testing.T) {
	errX := errors.New("chain: not found")
	errY := errors.New("No such mempool or blockchain transaction here")
	table := ErrorTable{{Target: errX, Code: spec.TxNotFound, Message: "No such mempool or blockchain transaction"},
		{Target: errY, Code: spec.TxNotFound, Message: "no such mempool or blockchain transaction"}}
	if e, _ := table.resolve(errX); e.Message != "No such mempool or blockchain transaction: chain: not found" {
		t.Fatalf("prefixed: %q", e.Message)
	}
	if e, _ := table.resolve(errY); e.Message != errY.Error() {
		t.Fatalf("already said: %q", e.Message)
	}
}
