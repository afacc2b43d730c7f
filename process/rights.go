package process

import "strings"

// Right is a MediaWiki user right, by the name MediaWiki gives it.
type Right string

// Rights the processes ask MediaWiki about (CreateWiki's and ManageWiki's
// own right names).
const (
	// RightManageWikiCore: a wiki's bureaucrats; they approve its deletion.
	RightManageWikiCore Right = "managewiki-core"
	// RightManageWikiRestricted: stewards; one may approve any gate.
	RightManageWikiRestricted Right = "managewiki-restricted"
	// RightManageWikiSettings: who may change a wiki's settings.
	RightManageWikiSettings Right = "managewiki-settings"
	// RightManageWikiExtensions: who may enable and disable a wiki's
	// extensions (ManageWiki's right of that name).
	RightManageWikiExtensions Right = "managewiki-extensions"
	// RightCreateWiki: wiki creators; they review wiki requests.
	RightCreateWiki Right = "createwiki"
)

// JoinRights writes rights as a list for people to read.
func JoinRights(rights []Right, sep string) string {
	names := make([]string, len(rights))
	for i, r := range rights {
		names[i] = string(r)
	}
	return strings.Join(names, sep)
}
