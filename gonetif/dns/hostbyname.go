package dns

import "syscall"

// h_errno values of <netdb.h> (H for h_errno; capi checks them against
// the header).
const (
	HHostNotFound = 1
	HTryAgain     = 2
	HNoRecovery   = 3
	HNoData       = 4
)

// HostError is gethostbyname_r's answer to a failed lookup with EAI code
// eai: its h_errno and its return value (an errno), as glibc gives them.
func HostError(eai int) (herrno int, errno syscall.Errno) {
	switch eai {
	case EAIAgain:
		return HTryAgain, syscall.EAGAIN
	case EAINoData:
		return HNoData, syscall.ENOENT
	}
	return HHostNotFound, syscall.ENOENT
}
