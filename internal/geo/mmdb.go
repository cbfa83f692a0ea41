package geo

import (
	"strconv"
	"strings"
)

// The schemas of the .mmdb files we read differ; fromRecord reads any of
// them from the decoded record (a map), so one file may use one schema and
// the next another:
//
//   - MaxMind GeoIP2/GeoLite2 City and Country, and DB-IP's own .mmdb
//     downloads, which copy it: location.latitude/longitude,
//     city.names.en, subdivisions[0].names.en, country.iso_code,
//     country.names.en.
//   - MaxMind GeoLite2-ASN, DB-IP ASN Lite, ip-location-db's asn-mmdb:
//     autonomous_system_number (integer), autonomous_system_organization.
//   - ip-location-db's city and country .mmdb (dbip-city-mmdb and others):
//     flat country_code, state1, city, latitude, longitude.
//   - IPinfo (Lite and the location files): asn as the string "AS174",
//     as_name, country (a name) and country_code, city, region, and
//     latitude/longitude or lat/lng, sometimes as strings.
//
// A company's own database of private WAN sites can use any of these.
func fromRecord(rec map[string]any, source string) Info {
	var in Info
	// Location.
	lat, okLat := num(rec["latitude"])
	lon, okLon := num(rec["longitude"])
	if !okLat || !okLon {
		lat, okLat = num(rec["lat"])
		lon, okLon = num(first(rec["lng"], rec["lon"]))
	}
	if loc, ok := rec["location"].(map[string]any); ok && (!okLat || !okLon) {
		lat, okLat = num(loc["latitude"])
		lon, okLon = num(loc["longitude"])
	}
	if okLat && okLon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		in.Located, in.Lat, in.Lon = true, lat, lon
	}
	in.City = name(rec["city"])
	in.Region = firstString(name(rec["state1"]), name(rec["region"]))
	if subs, ok := rec["subdivisions"].([]any); ok && len(subs) > 0 && in.Region == "" {
		in.Region = name(subs[0])
	}
	switch c := rec["country"].(type) {
	case string:
		// IPinfo: the name, or a code in files that have no country_code.
		if len(c) == 2 && strings.ToUpper(c) == c {
			in.CountryCode = c
		} else {
			in.Country = c
		}
	case map[string]any:
		in.CountryCode, _ = c["iso_code"].(string)
		in.Country = name(c)
	}
	if cc, ok := rec["country_code"].(string); ok && cc != "" {
		in.CountryCode = cc
	}
	in.CountryCode = strings.ToUpper(strings.TrimSpace(in.CountryCode))
	if len(in.CountryCode) != 2 {
		in.CountryCode = ""
	}
	if in.Located || in.City != "" || in.Country != "" || in.CountryCode != "" {
		in.Source = source
	}

	// AS.
	if n, ok := asNumber(first(rec["autonomous_system_number"], rec["asn"])); ok {
		in.ASN = n
		in.ASName = firstString(str(rec["autonomous_system_organization"]), str(rec["as_name"]), str(rec["as_org"]))
		in.ASSource = source
	}
	return in
}

func first(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func firstString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// name reads a place name given as a string or as MaxMind's
// {"names": {"en": ...}} object.
func name(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case map[string]any:
		if names, ok := v["names"].(map[string]any); ok {
			return str(names["en"])
		}
	}
	return ""
}

// num reads a number stored as any numeric type or as a decimal string.
func num(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		// The shortest decimal of the float32, not its binary noise:
		// -33.8688 rather than -33.86880111694336.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
		return f, true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// asNumber reads an AS number given as an integer, or as a string with or
// without the "AS" prefix ("AS174", "174").
func asNumber(v any) (uint32, bool) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
			s = s[2:]
		}
		n, err := strconv.ParseUint(s, 10, 32)
		return uint32(n), err == nil && n != 0
	}
	f, ok := num(v)
	if !ok || f <= 0 || f > 1<<32-1 || f != float64(uint32(f)) {
		return 0, false
	}
	return uint32(f), true
}
