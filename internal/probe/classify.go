package probe

// classify maps an ICMP type and code to what it says about a probe of mode.
// ignore is true for messages that answer no probe (redirects, source
// quench, echo requests): a ping socket queues those too.
func classify(v6 bool, mode Mode, typ, code uint8) (k Kind, ignore bool) {
	if v6 {
		switch typ {
		case 3: // time exceeded (code 0 in transit; 1 reassembly)
			return TimeExceeded, false
		case 1: // destination unreachable; code 4 = port unreachable
			if code == 4 && mode == UDP {
				return Reached, false
			}
			return Unreachable, false
		case 2, 4: // packet too big, parameter problem
			return Unreachable, false
		case 129: // echo reply
			if mode == ICMP {
				return Reached, false
			}
		}
		return 0, true
	}
	switch typ {
	case 11:
		return TimeExceeded, false
	case 3: // code 3 = port unreachable
		if code == 3 && mode == UDP {
			return Reached, false
		}
		return Unreachable, false
	case 12: // parameter problem
		return Unreachable, false
	case 0:
		if mode == ICMP {
			return Reached, false
		}
	}
	return 0, true
}
