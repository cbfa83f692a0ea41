/*
 * bcryptprimitives.dll with the one function Go's Windows runtime needs
 * from it. Wine 8 has no such DLL, so a windows/amd64 Go binary (Go 1.22
 * and later) dies at start under it with "bcryptprimitives.dll not found".
 * The lab builds this file with mingw-w64 into each Wine prefix it makes:
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c -lbcrypt
 *
 * ProcessPrng fills data with len random bytes and cannot fail on real
 * Windows; here it asks Wine's BCryptGenRandom, in chunks because that
 * takes a ULONG length.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
