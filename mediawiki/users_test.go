package mediawiki

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Account and User read the same list=users answer, each its own part.
func TestAccountAndUserReadListUsers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"query":{"users":[{"userid":7,"name":"Bob","groups":["*","bureaucrat"],"rights":["read"],"centralids":{"local":9}}]}}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL+"/{wiki}", "")
	a, err := c.Account(context.Background(), "demowiki", "bob")
	if err != nil || a.Name != "Bob" || a.LocalID != 7 || a.CentralID != 9 || !a.Has("read") || a.Has("edit") || len(a.Groups) != 2 {
		t.Errorf("Account: %+v, %v", a, err)
	}
	u, err := c.User(context.Background(), "demowiki", "bob")
	if err != nil || u.ID != 7 || u.Name != "Bob" || !u.InGroup("bureaucrat") || u.InGroup("sysop") || !u.Has("read") {
		t.Errorf("User: %+v, %v", u, err)
	}
}
