module github.com/pingerplot/pingerplot

go 1.26.8

require (
	github.com/maxmind/mmdbwriter v1.2.0
	github.com/oschwald/maxminddb-golang/v2 v2.9.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
)

require go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
