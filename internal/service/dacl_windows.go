package service

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// FileSecurity reads the owner and DACL of a file or folder.
func FileSecurity(path string) (Security, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return Security{}, fmt.Errorf("read the permissions of %s: %w", path, err)
	}
	var sec Security
	if owner, _, err := sd.Owner(); err == nil && owner != nil {
		sec.Owner = owner.String()
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return Security{}, fmt.Errorf("read the access list of %s: %w", path, err)
	}
	if dacl == nil {
		sec.NullDACL = true
		return sec, nil
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return Security{}, fmt.Errorf("read entry %d of the access list of %s: %w", i, path, err)
		}
		a := ACE{Type: ace.Header.AceType, Flags: ace.Header.AceFlags, Mask: uint32(ace.Mask)}
		// Allowed and denied ACEs share this layout: the SID starts at
		// SidStart. Other types (object, callback) are left without a SID
		// and so ignored.
		if a.Type == windows.ACCESS_ALLOWED_ACE_TYPE || a.Type == windows.ACCESS_DENIED_ACE_TYPE {
			a.SID = (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String()
		}
		sec.ACEs = append(sec.ACEs, a)
	}
	return sec, nil
}

// CurrentUserSID is the SID of the user this process runs as.
func CurrentUserSID() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("find who is running this: %w", err)
	}
	return u.User.Sid.String(), nil
}

// Elevated reports whether this process runs with administrator rights
// (an elevated token, or UAC off for an administrator).
func Elevated() bool { return windows.GetCurrentProcessToken().IsElevated() }
