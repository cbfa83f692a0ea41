//go:build !linux && !windows

package cli

import (
	"context"
	"fmt"
	"runtime"
)

// unsupportedService says so for every verb: launchd daemons (macOS) and
// rc.d scripts (BSDs) are not written yet.
type unsupportedService struct{}

func newServiceBackend(Env) serviceBackend { return unsupportedService{} }

func (unsupportedService) err() error {
	return fmt.Errorf("pingerplot service is not supported on %s yet (Linux and Windows only); run pingerplot headless CONFIG from your system's service manager instead", runtime.GOOS)
}

func (u unsupportedService) install(context.Context, serviceRequest) error { return u.err() }
func (u unsupportedService) remove(context.Context, serviceRequest) error  { return u.err() }
func (u unsupportedService) control(context.Context, serviceRequest) error { return u.err() }
func (u unsupportedService) status(context.Context, serviceRequest) error  { return u.err() }
func (u unsupportedService) run(context.Context, serviceRequest) error     { return u.err() }
