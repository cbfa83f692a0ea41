package geo

import "strings"

// Attribution returns the credit that the licence of a source asks to be
// shown with its answers, and the link to go with it; "" when the source
// asks for none or is unknown (a company's own database). source is an
// Info.Source or Info.ASSource; a merged one ("a+b") gives the first
// credit found.
//
// DB-IP's Lite databases (CC BY 4.0) ask a web page that shows their
// results to link to db-ip.com; MaxMind's GeoLite2 EULA and IPinfo's
// CC BY-SA 4.0 ask for the credits below; ip-location-db's ASN files
// combine RouteViews, NRO and DB-IP data, all CC BY 4.0.
func Attribution(source string) (text, link string) {
	for _, s := range strings.Split(source, "+") {
		l := strings.ToLower(s)
		switch {
		case strings.HasPrefix(l, "dbip-"):
			return "IP Geolocation by DB-IP", "https://db-ip.com"
		case l == "asn-ipv4.csv" || l == "asn-ipv6.csv":
			return "AS data: RouteViews, NRO and DB-IP (CC BY 4.0), via ip-location-db", "https://db-ip.com"
		case strings.HasPrefix(l, "geolite2-"):
			return "This product includes GeoLite2 data created by MaxMind", "https://www.maxmind.com"
		case strings.HasPrefix(l, "ipinfo"):
			return "IP address data powered by IPinfo", "https://ipinfo.io"
		case l == IPWhoisName:
			return "Online lookups by ipwho.is", "https://ipwho.is"
		}
	}
	return "", ""
}
