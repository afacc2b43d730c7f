package activities

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wikiflow/wikiflow/farmdb"
)

// errNoAccount marks a well-formed name without an account (a permanent error).
var errNoAccount = errors.New("no account on the farm")

// LookupFarmUser asks the central wiki (list=users) for a user's id.
func (f *Farm) LookupFarmUser(ctx context.Context, central, user string) (int, string, error) {
	id, name, err := f.QueryFarmUser(ctx, central, user)
	if errors.Is(err, errNoAccount) {
		return 0, "", Permanent(ErrTypeInvalidInput, "%s has no account on the farm (%s)", user, central)
	}
	return id, name, err
}

func (f *Farm) QueryFarmUser(ctx context.Context, central, user string) (int, string, error) {
	if err := farmdb.CheckDBName(central); err != nil {
		return 0, "", Permanent(ErrTypeMisconfigured, "the central wiki: %v", err)
	}
	if strings.TrimSpace(user) == "" || strings.ContainsAny(user, "|\x1f") {
		return 0, "", Permanent(ErrTypeInvalidInput, "invalid user name %q", user)
	}
	u, err := f.API.Account(ctx, central, user)
	if err != nil {
		return 0, "", ClassifyAPI(err)
	}
	if u.Invalid {
		return 0, "", Permanent(ErrTypeInvalidInput, "%q is not a valid user name", user)
	}
	if u.Missing || u.LocalID <= 0 {
		return 0, "", errNoAccount
	}
	return u.LocalID, u.Name, nil
}

var systemUserID = regexp.MustCompile(`wikiflow-system-user:(\d+)`)

// SystemUserID returns SystemUser's id, creating the system account (no
// password; an existing normal account of that name is never taken over)
// when the farm has none yet.
func (f *Farm) SystemUserID(ctx context.Context, central string) (int, string, error) {
	id, name, err := f.QueryFarmUser(ctx, central, SystemUser)
	if !errors.Is(err, errNoAccount) {
		return id, name, err
	}
	code := fmt.Sprintf(`$u = User::newSystemUser(%q, ['steal' => false]); echo "wikiflow-system-user:", $u ? $u->getId() : 0, "\n";`, SystemUser)
	out, err := f.Scripts.RunWithInput(ctx, central, code, "eval")
	if err != nil {
		return 0, "", err
	}
	m := systemUserID.FindStringSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("creating the system user %s on %s: unexpected output %q", SystemUser, central, LastLine(out))
	}
	if n, _ := strconv.Atoi(m[1]); n <= 0 {
		return 0, "", Permanent(ErrTypeMisconfigured, "the farm has a normal account named %s: it cannot record the farm's own actions", SystemUser)
	}
	return f.LookupFarmUser(ctx, central, SystemUser)
}

// FarmActorID finds the user's actor id in the shared actor table, which
// lives in the central wiki's database (the farm's $wgSharedDB).
func (f *Farm) FarmActorID(ctx context.Context, central, user string, userID int) (int64, error) {
	w, err := f.Central.Wiki(ctx, central)
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return 0, Permanent(ErrTypeMisconfigured, "the central wiki %s is not registered in cw_wikis", central)
	}
	if err != nil {
		return 0, err
	}
	id, ok, err := f.Clusters.ActorID(ctx, w.Cluster, central, userID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, Permanent(ErrTypeInvalidInput, "%s (user %d) has no actor on the farm", user, userID)
	}
	return id, nil
}

// SystemUser is the farm account under which UpdateRequest records what the
// farm itself does (an input without User): a MediaWiki system user (no
// password, cannot log in), created on first use as CreateWiki does for
// its own comments.
const SystemUser = "WikiFlow"
