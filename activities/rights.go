package activities

import (
	"context"
	"fmt"

	"github.com/wikiflow/wikiflow/process"
)

// CheckRights answers whether a user holds any of the rights on a wiki,
// asking MediaWiki at this moment (the engine's authorize contract). It also
// says who the user is, as MediaWiki names them: the canonical name and the
// central id every comparison of people uses. A name that is no account is
// a refusal (NoAccount), not an error: no retry will create the account.
func (f *Farm) CheckRights(ctx context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
	u, err := f.API.Account(ctx, in.Wiki, in.User)
	if err != nil {
		return process.AuthorizeResult{}, ClassifyAPI(err)
	}
	switch {
	case u.Invalid:
		return process.AuthorizeResult{NoAccount: true, Reason: fmt.Sprintf("%q is not a valid user name", in.User)}, nil
	case !u.Exists():
		return process.AuthorizeResult{NoAccount: true, User: u.Name, Reason: fmt.Sprintf("%s has no account on the farm", u.Name)}, nil
	}
	res := process.AuthorizeResult{User: u.Name, UserID: u.CentralID}
	for _, r := range in.AnyRight {
		if u.Has(string(r)) {
			res.Allowed, res.Rights = true, []process.Right{r}
			return res, nil
		}
	}
	res.Reason = fmt.Sprintf("%s holds none of %s on %s", u.Name, process.JoinRights(in.AnyRight, ", "), in.Wiki)
	return res, nil
}
