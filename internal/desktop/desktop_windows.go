package desktop

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Win32 functions used here, by name: x/sys/windows wraps few of
// them. user32 is loaded only when a function of it is first called, so
// a terminal run that shows no icon stays a pure console program, which
// matters: Windows stops sending CTRL_LOGOFF_EVENT and
// CTRL_SHUTDOWN_EVENT to a console program once it loads user32, and
// the icon's window takes over that job (WM_ENDSESSION).
var (
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")
	user32   = windows.NewLazySystemDLL("user32.dll")
	shell32  = windows.NewLazySystemDLL("shell32.dll")

	procGetConsoleProcessList  = kernel32.NewProc("GetConsoleProcessList")
	procGetConsoleWindow       = kernel32.NewProc("GetConsoleWindow")
	procGetModuleHandleW       = kernel32.NewProc("GetModuleHandleW")
	procRegisterClassExW       = user32.NewProc("RegisterClassExW")
	procUnregisterClassW       = user32.NewProc("UnregisterClassW")
	procCreateWindowExW        = user32.NewProc("CreateWindowExW")
	procDestroyWindow          = user32.NewProc("DestroyWindow")
	procDefWindowProcW         = user32.NewProc("DefWindowProcW")
	procGetMessageW            = user32.NewProc("GetMessageW")
	procTranslateMessage       = user32.NewProc("TranslateMessage")
	procDispatchMessageW       = user32.NewProc("DispatchMessageW")
	procPostMessageW           = user32.NewProc("PostMessageW")
	procPostQuitMessage        = user32.NewProc("PostQuitMessage")
	procRegisterWindowMessageW = user32.NewProc("RegisterWindowMessageW")
	procShowWindow             = user32.NewProc("ShowWindow")
	procCreatePopupMenu        = user32.NewProc("CreatePopupMenu")
	procAppendMenuW            = user32.NewProc("AppendMenuW")
	procSetMenuDefaultItem     = user32.NewProc("SetMenuDefaultItem")
	procTrackPopupMenu         = user32.NewProc("TrackPopupMenu")
	procDestroyMenu            = user32.NewProc("DestroyMenu")
	procSetForegroundWindow    = user32.NewProc("SetForegroundWindow")
	procGetCursorPos           = user32.NewProc("GetCursorPos")
	procLoadImageW             = user32.NewProc("LoadImageW")
	procLoadIconW              = user32.NewProc("LoadIconW")
	procGetSystemMetrics       = user32.NewProc("GetSystemMetrics")
	procShellNotifyIconW       = shell32.NewProc("Shell_NotifyIconW")
)

// Constants from winuser.h and shellapi.h.
const (
	wmNull            = 0x0000
	wmDestroy         = 0x0002
	wmClose           = 0x0010
	wmQueryEndSession = 0x0011
	wmEndSession      = 0x0016
	wmCommand         = 0x0111
	wmApp             = 0x8000
	wmTrayCallback    = wmApp + 1 // the icon's mouse messages

	swHide = 0

	mfString    = 0x0000
	mfSeparator = 0x0800

	tpmRightButton = 0x0002
	tpmBottomAlign = 0x0020

	imageIcon      = 1
	lrDefaultColor = 0
	smCxSmIcon     = 49
	smCySmIcon     = 50
	idiApplication = 32512

	nimAdd     = 0
	nimDelete  = 2
	nifMessage = 0x1
	nifIcon    = 0x2
	nifTip     = 0x4

	mbOK            = 0x0
	mbIconError     = 0x10
	mbSetForeground = 0x10000
)

// ClassName is the window class of the icon's hidden window, by which
// other programs (and tests) can find it with FindWindow.
const ClassName = "PingerPlotTray"

// endSessionWait bounds how long a logoff or shutdown waits, inside
// WM_ENDSESSION, for the program to stop and call Close: Windows may end
// the process as soon as that message is answered, so answering before
// the logs are flushed would lose their end.
const endSessionWait = 10 * time.Second

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type point struct{ x, y int32 }

type msg struct {
	hwnd    windows.HWND
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      point
	private uint32
}

// notifyIconData is NOTIFYICONDATAW as of Windows Vista (976 bytes on
// 64-bit Windows; the test checks the size and offsets).
type notifyIconData struct {
	size            uint32
	wnd             windows.HWND
	id              uint32
	flags           uint32
	callbackMessage uint32
	icon            windows.Handle
	tip             [128]uint16
	state           uint32
	stateMask       uint32
	info            [256]uint16
	version         uint32 // a union with uTimeout
	infoTitle       [64]uint16
	infoFlags       uint32
	guidItem        windows.GUID
	balloonIcon     windows.Handle
}

// ConsoleProcesses returns how many processes share this process's
// console: 1 when the console is its own, 0 without one.
func ConsoleProcesses() int {
	var ids [8]uint32
	n, _, _ := procGetConsoleProcessList.Call(uintptr(unsafe.Pointer(&ids[0])), uintptr(len(ids)))
	return int(n)
}

// HideConsole hides this process's console window. Output written to it
// afterwards is not lost, only unseen.
func HideConsole() error {
	h, _, _ := procGetConsoleWindow.Call()
	if h == 0 {
		return errors.New("this process has no console window")
	}
	procShowWindow.Call(h, swHide)
	return nil
}

// ShowError shows msg in a message box, for an error that happens after
// the console was hidden: nobody would read it there.
func ShowError(title, msg string) {
	t, _ := windows.UTF16PtrFromString(title)
	m, _ := windows.UTF16PtrFromString(msg)
	windows.MessageBox(0, m, t, mbOK|mbIconError|mbSetForeground)
}

// Tray is a notification-area icon with its menu. Its window lives on a
// thread of its own (a window's messages are read on the thread that
// made it), which Close ends.
type Tray struct {
	cfg            Config
	hwnd           windows.HWND // set before Start returns
	taskbarCreated uint32       // sent to all windows when Explorer restarts
	nid            notifyIconData
	closing        chan struct{} // closed by Close
	closeOnce      sync.Once
	done           chan struct{} // closed when the message loop ended
}

// Start shows the icon and returns once it is there; an error says why
// it could not be (no notification area, a second icon in one process).
func Start(cfg Config) (*Tray, error) {
	t := &Tray{cfg: cfg, closing: make(chan struct{}), done: make(chan struct{})}
	started := make(chan error, 1)
	go t.run(started)
	if err := <-started; err != nil {
		<-t.done
		return nil, err
	}
	return t, nil
}

// HWND is the icon's hidden window, to which a WM_COMMAND with a menu
// item's id can be posted.
func (t *Tray) HWND() uintptr { return uintptr(t.hwnd) }

// Close removes the icon and ends its thread. It is safe to call more
// than once.
func (t *Tray) Close() error {
	t.closeOnce.Do(func() {
		close(t.closing)
		procPostMessageW.Call(uintptr(t.hwnd), wmClose, 0, 0)
	})
	<-t.done
	return nil
}

// run creates the window and icon and reads the window's messages until
// it is destroyed. The goroutine keeps its thread locked to the end, so
// the thread exits with it and no other goroutine inherits its window
// state.
func (t *Tray) run(started chan<- error) {
	runtime.LockOSThread()
	defer close(t.done)
	inst, _, _ := procGetModuleHandleW.Call(0)
	class, _ := windows.UTF16PtrFromString(ClassName)
	wc := wndClassEx{wndProc: windows.NewCallback(t.wndProc), instance: windows.Handle(inst), className: class}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		started <- fmt.Errorf("register the icon's window class: %w", err)
		return
	}
	defer procUnregisterClassW.Call(uintptr(unsafe.Pointer(class)), inst)
	msgName, _ := windows.UTF16PtrFromString("TaskbarCreated")
	r, _, _ := procRegisterWindowMessageW.Call(uintptr(unsafe.Pointer(msgName)))
	t.taskbarCreated = uint32(r)
	// A hidden top-level window, not a message-only one: only top-level
	// windows receive the broadcasts this needs (TaskbarCreated,
	// WM_QUERYENDSESSION, WM_ENDSESSION).
	title, _ := windows.UTF16PtrFromString("PingerPlot")
	h, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(class)), uintptr(unsafe.Pointer(title)),
		0, 0, 0, 0, 0, 0, 0, inst, 0)
	if h == 0 {
		started <- fmt.Errorf("create the icon's window: %w", err)
		return
	}
	t.hwnd = windows.HWND(h)
	t.nid = notifyIconData{wnd: t.hwnd, id: 1, flags: nifMessage | nifIcon | nifTip,
		callbackMessage: wmTrayCallback, icon: loadIcon(windows.Handle(inst))}
	t.nid.size = uint32(unsafe.Sizeof(t.nid))
	copy(t.nid.tip[:127], tooltip(t.cfg.Tooltip))
	if r, _, err := procShellNotifyIconW.Call(nimAdd, uintptr(unsafe.Pointer(&t.nid))); r == 0 {
		procDestroyWindow.Call(h)
		t.pump()
		started <- fmt.Errorf("add the notification-area icon (is there a taskbar?): %w", err)
		return
	}
	started <- nil
	t.pump()
}

// pump dispatches the thread's messages until WM_QUIT.
func (t *Tray) pump() {
	var m msg
	for {
		r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		if int32(r) <= 0 { // 0: WM_QUIT; -1: an error, which would repeat
			return
		}
		procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}

func (t *Tray) wndProc(hwnd, message, wParam, lParam uintptr) uintptr {
	switch m := uint32(message); {
	case m == wmTrayCallback:
		if cmd := iconCommand(uint32(lParam & 0xFFFF)); cmd == ShowMenu {
			t.showMenu(hwnd)
		} else {
			t.cfg.do(cmd)
		}
		return 0
	case m == wmCommand:
		t.cfg.do(menuCommand(uint16(wParam & 0xFFFF)))
		return 0
	case m == t.taskbarCreated && m != 0:
		// Explorer restarted and forgot every icon: add ours again.
		procShellNotifyIconW.Call(nimAdd, uintptr(unsafe.Pointer(&t.nid)))
		return 0
	case m == wmQueryEndSession:
		return 1 // nothing to save first: agree, and stop at WM_ENDSESSION
	case m == wmEndSession:
		if wParam != 0 {
			// The session ends, and the process with it once this
			// returns: stop as Quit does and wait for Close.
			t.cfg.do(Quit)
			select {
			case <-t.closing:
			case <-time.After(endSessionWait):
			}
		}
		return 0
	case m == wmClose:
		procDestroyWindow.Call(hwnd)
		return 0
	case m == wmDestroy:
		procShellNotifyIconW.Call(nimDelete, uintptr(unsafe.Pointer(&t.nid)))
		procPostQuitMessage.Call(0)
		return 0
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, message, wParam, lParam)
	return r
}

// showMenu shows the menu at the mouse; the chosen item comes back as
// WM_COMMAND.
func (t *Tray) showMenu(hwnd uintptr) {
	menuH, _, _ := procCreatePopupMenu.Call()
	if menuH == 0 {
		return
	}
	defer procDestroyMenu.Call(menuH)
	for _, it := range menu() {
		if it.cmd == Quit {
			procAppendMenuW.Call(menuH, mfSeparator, 0, 0)
		}
		label, _ := windows.UTF16PtrFromString(it.label)
		procAppendMenuW.Call(menuH, mfString, uintptr(it.id), uintptr(unsafe.Pointer(label)))
		if it.cmd == OpenDashboard {
			procSetMenuDefaultItem.Call(menuH, uintptr(it.id), 0) // bold: what a click does
		}
	}
	var pt point
	procGetCursorPos.Call(uintptr(unsafe.Pointer(&pt)))
	// Without the foreground, the menu would not close when the user
	// clicks elsewhere; the WM_NULL after it is the documented fix for
	// a menu that otherwise closes at once the second time it is shown.
	procSetForegroundWindow.Call(hwnd)
	procTrackPopupMenu.Call(menuH, tpmRightButton|tpmBottomAlign, uintptr(pt.x), uintptr(pt.y), 0, hwnd, 0)
	procPostMessageW.Call(hwnd, wmNull, 0, 0)
}

// loadIcon returns the executable's icon, the group icon resource named
// APP, at the small-icon size, or Windows' generic application icon.
func loadIcon(inst windows.Handle) windows.Handle {
	name, _ := windows.UTF16PtrFromString("APP")
	cx, _, _ := procGetSystemMetrics.Call(smCxSmIcon)
	cy, _, _ := procGetSystemMetrics.Call(smCySmIcon)
	if h, _, _ := procLoadImageW.Call(uintptr(inst), uintptr(unsafe.Pointer(name)), imageIcon, cx, cy, lrDefaultColor); h != 0 {
		return windows.Handle(h)
	}
	h, _, _ := procLoadIconW.Call(0, idiApplication)
	return windows.Handle(h)
}
