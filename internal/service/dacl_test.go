package service

import (
	"reflect"
	"testing"
)

func TestNonAdminWriters(t *testing.T) {
	const (
		users   = "S-1-5-32-545"
		auth    = "S-1-5-11"
		admins  = "S-1-5-32-544"
		system  = "S-1-5-18"
		me      = "S-1-5-21-1-2-3-1001"
		creator = "S-1-3-0"
		readX   = 0x1200a9 // FILE_GENERIC_READ | FILE_GENERIC_EXECUTE
		modify  = 0x1301bf
		full    = 0x1f01ff
	)
	// C:\Program Files\PingerPlot as Windows creates it.
	programFiles := []ACE{
		{aceAllowed, 0, full, system}, {aceAllowed, 0, full, admins},
		{aceAllowed, 0, readX, users}, {aceAllowed, inheritOnly, 0x10000000, creator},
	}
	tests := []struct {
		name string
		sec  Security
		want []string
	}{
		{"Program Files: administrators only", Security{Owner: "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", ACEs: programFiles}, nil},
		{"a Downloads folder: the user has full control", Security{Owner: me, ACEs: []ACE{{aceAllowed, 0, full, system}, {aceAllowed, 0, full, admins}, {aceAllowed, 0, full, me}}},
			[]string{"you, without elevation (may write data or add files, append or add folders, delete what is inside, delete, change permissions, take ownership)", "you, without elevation (owner: may change the permissions)"}},
		{"C:\\Tools made by an administrator: Authenticated Users may modify", Security{Owner: admins, ACEs: append(programFiles[:3:3], ACE{aceAllowed, 0, modify, auth})},
			[]string{"Authenticated Users (may write data or add files, append or add folders, delete)"}},
		{"Users may only add subfolders (append)", Security{ACEs: []ACE{{aceAllowed, 0, 0x4, users}}}, []string{"Users (may append or add folders)"}},
		{"read-only Everyone", Security{ACEs: []ACE{{aceAllowed, 0, readX, "S-1-1-0"}}}, nil},
		{"a deny before the allow blocks it", Security{ACEs: []ACE{{aceDenied, 0, writeRights, users}, {aceAllowed, 0, full, users}}}, nil},
		{"a deny after the allow is too late", Security{ACEs: []ACE{{aceAllowed, 0, 0x2, users}, {aceDenied, 0, 0x2, users}}}, []string{"Users (may write data or add files)"}},
		{"a partial deny leaves the rest", Security{ACEs: []ACE{{aceDenied, 0, 0x2, "S-1-5-4"}, {aceAllowed, 0, 0x6, "S-1-5-4"}}}, []string{"INTERACTIVE (may append or add folders)"}},
		{"inherit-only entries do not apply to the folder", Security{ACEs: []ACE{{aceAllowed, inheritOnly, full, users}}}, nil},
		{"generic write", Security{ACEs: []ACE{{aceAllowed, 0, 0x40000000, "S-1-1-0"}}}, []string{"Everyone (may write)"}},
		{"no DACL at all", Security{NullDACL: true}, []string{"Everyone (the folder has no access control list)"}},
		{"an empty DACL grants nothing", Security{}, nil},
		{"other users are not our business", Security{ACEs: []ACE{{aceAllowed, 0, full, "S-1-5-21-9-9-9-1002"}}}, nil},
		{"unknown ACE types are ignored", Security{ACEs: []ACE{{5, 0, full, users}}}, nil},
	}
	for _, tt := range tests {
		got := NonAdminWriters(tt.sec, me)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: NonAdminWriters = %q; want %q", tt.name, got, tt.want)
		}
	}
}
