package service

import (
	"fmt"
	"sort"
	"strings"
)

// ACE is one access control entry of a file's or folder's DACL, as read
// from Windows: its type, flags, access mask and the SID it names.
type ACE struct {
	Type  uint8 // ACCESS_ALLOWED_ACE_TYPE (0) or ACCESS_DENIED_ACE_TYPE (1); others are ignored
	Flags uint8 // INHERIT_ONLY_ACE (0x08) means it does not apply to the object itself
	Mask  uint32
	SID   string // "S-1-5-32-545"
}

// Security is what FileSecurity reads of one file or folder.
type Security struct {
	Owner string // the owner's SID: an owner may always rewrite the DACL
	// NullDACL: the object has no DACL at all, which grants everyone
	// everything (not the same as an empty DACL, which grants nothing).
	NullDACL bool
	ACEs     []ACE
}

const (
	aceAllowed  = 0
	aceDenied   = 1
	inheritOnly = 0x08

	// Rights that let a holder replace the program or plant a file beside
	// it (winnt.h): FILE_WRITE_DATA/FILE_ADD_FILE, FILE_APPEND_DATA/
	// FILE_ADD_SUBDIRECTORY, FILE_DELETE_CHILD, DELETE, WRITE_DAC,
	// WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE.
	writeRights = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000
)

// Well-known SIDs that hold every non-elevated process of a logged-on
// user (learn.microsoft.com, "Well-known SIDs").
var nonAdminSIDs = map[string]string{
	"S-1-1-0":      "Everyone",
	"S-1-5-11":     "Authenticated Users",
	"S-1-5-32-545": "Users",
	"S-1-5-4":      "INTERACTIVE",
}

// NonAdminWriters lists who, among the groups every standard user is in
// and the user's own SID (userSID; "" to leave out), may modify the object
// without elevation: each is one "NAME (what)" string, sorted; none means
// only administrators (or other accounts) may. A task that runs a program
// elevated from a folder such a principal can write lets any unelevated
// process of that user become administrator at the next logon.
//
// Each SID's ACEs are taken in DACL order, as Windows evaluates them: a
// deny blocks the rights it names for the allows that come after it.
// Group memberships beyond these SIDs are not known here, so the answer
// errs towards a warning, never towards silence about these principals.
func NonAdminWriters(sec Security, userSID string) []string {
	names := map[string]string{}
	for sid, n := range nonAdminSIDs {
		names[sid] = n
	}
	if userSID != "" {
		names[userSID] = "you, without elevation"
	}
	if sec.NullDACL {
		return []string{"Everyone (the folder has no access control list)"}
	}
	var out []string
	if n, ok := names[sec.Owner]; ok {
		out = append(out, n+" (owner: may change the permissions)")
	}
	denied, granted := map[string]uint32{}, map[string]uint32{}
	for _, a := range sec.ACEs {
		if _, ok := names[a.SID]; !ok || a.Flags&inheritOnly != 0 {
			continue
		}
		switch a.Type {
		case aceDenied:
			denied[a.SID] |= a.Mask
		case aceAllowed:
			granted[a.SID] |= a.Mask &^ denied[a.SID]
		}
	}
	for sid, g := range granted {
		if w := g & writeRights; w != 0 {
			out = append(out, fmt.Sprintf("%s (%s)", names[sid], describeRights(w)))
		}
	}
	sort.Strings(out)
	return out
}

// describeRights names the write rights in mask, in words.
func describeRights(mask uint32) string {
	var words []string
	for _, r := range []struct {
		bit  uint32
		word string
	}{
		{0x10000000, "full control"}, {0x40000000, "write"}, {0x2, "write data or add files"},
		{0x4, "append or add folders"}, {0x40, "delete what is inside"}, {0x10000, "delete"},
		{0x40000, "change permissions"}, {0x80000, "take ownership"},
	} {
		if mask&r.bit != 0 {
			words = append(words, r.word)
		}
	}
	return "may " + strings.Join(words, ", ")
}
