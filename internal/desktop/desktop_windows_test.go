package desktop

import (
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TestLayouts checks the Win32 structures against their documented
// 64-bit sizes and the offsets a wrong field would move.
func TestLayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("layouts are checked for 64-bit Windows")
	}
	var n notifyIconData
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof NOTIFYICONDATAW", unsafe.Sizeof(n), 976},
		{"offsetof hWnd", unsafe.Offsetof(n.wnd), 8},
		{"offsetof hIcon", unsafe.Offsetof(n.icon), 32},
		{"offsetof szTip", unsafe.Offsetof(n.tip), 40},
		{"offsetof szInfo", unsafe.Offsetof(n.info), 304},
		{"offsetof uVersion", unsafe.Offsetof(n.version), 816},
		{"offsetof guidItem", unsafe.Offsetof(n.guidItem), 952},
		{"sizeof WNDCLASSEXW", unsafe.Sizeof(wndClassEx{}), 80},
		{"sizeof MSG", unsafe.Sizeof(msg{}), 48},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d; want %d", tc.name, tc.got, tc.want)
		}
	}
}

// needTaskbar skips a test where there is no notification area to add
// an icon to: a session without a desktop (a service, Server Core), or
// Wine without an X display.
func needTaskbar(t *testing.T) {
	t.Helper()
	class, _ := windows.UTF16PtrFromString("Shell_TrayWnd")
	if h, _, _ := user32.NewProc("FindWindowW").Call(uintptr(unsafe.Pointer(class)), 0); h == 0 {
		t.Skip("no taskbar (Shell_TrayWnd) in this session: run the test on a desktop (under Wine: with an X display)")
	}
}

// waitFor fails the test unless ch delivers within a generous time.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen within 10 s", what)
	}
}

// TestTrayMessages runs the icon's message loop and drives it the way
// the notification area and the menu do: posted messages.
func TestTrayMessages(t *testing.T) {
	needTaskbar(t)
	opened := make(chan struct{}, 8)
	quit := make(chan struct{}, 8)
	tray, err := Start(Config{
		Tooltip: "PingerPlot test",
		Open:    func() { opened <- struct{}{} },
		Quit:    func() { quit <- struct{}{} },
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer tray.Close()
	h := tray.HWND()
	post := func(m uint32, w, l uintptr) {
		if r, _, err := procPostMessageW.Call(h, uintptr(m), w, l); r == 0 {
			t.Fatalf("PostMessage(%#x): %v", m, err)
		}
	}
	post(wmCommand, 1, 0) // the menu's "Open dashboard"
	waitFor(t, opened, "Open after the menu's Open dashboard")
	post(wmTrayCallback, 1, wmLButtonDblClk) // a double-click on the icon
	waitFor(t, opened, "Open after a double-click on the icon")
	post(wmCommand, 0, 0) // a menu closed without a choice
	post(wmCommand, 2, 0) // "Quit"
	waitFor(t, quit, "Quit after the menu's Quit")
	select {
	case <-opened:
		t.Error("Open called by a menu closed without a choice")
	default:
	}
	closed := make(chan struct{})
	go func() { tray.Close(); close(closed) }()
	waitFor(t, closed, "Close")
}

// TestTrayEndSession: at logoff or shutdown WM_ENDSESSION stops the
// program as Quit does and is answered only once the program closed the
// icon, since Windows may end the process as soon as it is answered.
func TestTrayEndSession(t *testing.T) {
	needTaskbar(t)
	var tray *Tray
	closedBy := make(chan time.Time, 1)
	tray, err := Start(Config{Quit: func() {
		go func() {
			time.Sleep(300 * time.Millisecond) // the program's shutdown
			closedBy <- time.Now()
			tray.Close()
		}()
	}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer tray.Close()
	procSendMessageW := user32.NewProc("SendMessageW")
	procSendMessageW.Call(tray.HWND(), wmQueryEndSession, 0, 0)
	procSendMessageW.Call(tray.HWND(), wmEndSession, 1, 0)
	answered := time.Now()
	select {
	case at := <-closedBy:
		if answered.Before(at) {
			t.Errorf("WM_ENDSESSION answered %v before the program closed the icon", at.Sub(answered))
		}
	default:
		t.Fatal("WM_ENDSESSION was answered before Quit's shutdown closed the icon")
	}
	waitFor(t, tray.done, "the message loop's end")
}
