package main

/*
#define _GNU_SOURCE 1
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "glue/gonetif_abi.h"
*/
import "C"

import (
	"gonetif.dev/gonetif/dns"
	"gonetif.dev/gonetif/netif"
)

// The getaddrinfo values gonetif/dns speaks must be the C headers' own
// (include/netdb.h is the host's): each line fails to compile, a negative
// constant converted to uint, the day ours and the header's differ.
const (
	_ = uint(-(dns.EAIBadFlags - C.EAI_BADFLAGS) * (dns.EAIBadFlags - C.EAI_BADFLAGS))
	_ = uint(-(dns.EAINoName - C.EAI_NONAME) * (dns.EAINoName - C.EAI_NONAME))
	_ = uint(-(dns.EAIAgain - C.EAI_AGAIN) * (dns.EAIAgain - C.EAI_AGAIN))
	_ = uint(-(dns.EAIFail - C.EAI_FAIL) * (dns.EAIFail - C.EAI_FAIL))
	_ = uint(-(dns.EAINoData - C.EAI_NODATA) * (dns.EAINoData - C.EAI_NODATA))
	_ = uint(-(dns.EAIFamily - C.EAI_FAMILY) * (dns.EAIFamily - C.EAI_FAMILY))
	_ = uint(-(dns.EAISockType - C.EAI_SOCKTYPE) * (dns.EAISockType - C.EAI_SOCKTYPE))
	_ = uint(-(dns.EAIService - C.EAI_SERVICE) * (dns.EAIService - C.EAI_SERVICE))
	_ = uint(-(dns.EAIAddrFamily - C.EAI_ADDRFAMILY) * (dns.EAIAddrFamily - C.EAI_ADDRFAMILY))
	_ = uint(-(dns.EAIMemory - C.EAI_MEMORY) * (dns.EAIMemory - C.EAI_MEMORY))
	_ = uint(-(dns.EAISystem - C.EAI_SYSTEM) * (dns.EAISystem - C.EAI_SYSTEM))
	_ = uint(-(dns.EAIOverflow - C.EAI_OVERFLOW) * (dns.EAIOverflow - C.EAI_OVERFLOW))
	_ = uint(-(dns.AIPassive - C.AI_PASSIVE) * (dns.AIPassive - C.AI_PASSIVE))
	_ = uint(-(dns.AICanonName - C.AI_CANONNAME) * (dns.AICanonName - C.AI_CANONNAME))
	_ = uint(-(dns.AINumericHost - C.AI_NUMERICHOST) * (dns.AINumericHost - C.AI_NUMERICHOST))
	_ = uint(-(dns.AIV4Mapped - C.AI_V4MAPPED) * (dns.AIV4Mapped - C.AI_V4MAPPED))
	_ = uint(-(dns.AIAll - C.AI_ALL) * (dns.AIAll - C.AI_ALL))
	_ = uint(-(dns.AIAddrConfig - C.AI_ADDRCONFIG) * (dns.AIAddrConfig - C.AI_ADDRCONFIG))
	_ = uint(-(dns.AIIDN - C.AI_IDN) * (dns.AIIDN - C.AI_IDN))
	_ = uint(-(dns.AICanonIDN - C.AI_CANONIDN) * (dns.AICanonIDN - C.AI_CANONIDN))
	_ = uint(-(dns.AINumericServ - C.AI_NUMERICSERV) * (dns.AINumericServ - C.AI_NUMERICSERV))
	_ = uint(-(dns.AFUnspec - C.AF_UNSPEC) * (dns.AFUnspec - C.AF_UNSPEC))
	_ = uint(-(dns.AFInet - C.AF_INET) * (dns.AFInet - C.AF_INET))
	_ = uint(-(dns.AFInet6 - C.AF_INET6) * (dns.AFInet6 - C.AF_INET6))
	_ = uint(-(dns.SockStream - C.SOCK_STREAM) * (dns.SockStream - C.SOCK_STREAM))
	_ = uint(-(dns.SockDgram - C.SOCK_DGRAM) * (dns.SockDgram - C.SOCK_DGRAM))
	_ = uint(-(dns.SockRaw - C.SOCK_RAW) * (dns.SockRaw - C.SOCK_RAW))
	_ = uint(-(dns.SockSeqPacket - C.SOCK_SEQPACKET) * (dns.SockSeqPacket - C.SOCK_SEQPACKET))
	_ = uint(-(dns.SockDCCP - C.SOCK_DCCP) * (dns.SockDCCP - C.SOCK_DCCP))
	_ = uint(-(dns.ProtoTCP - C.IPPROTO_TCP) * (dns.ProtoTCP - C.IPPROTO_TCP))
	_ = uint(-(dns.ProtoUDP - C.IPPROTO_UDP) * (dns.ProtoUDP - C.IPPROTO_UDP))
	_ = uint(-(dns.ProtoDCCP - C.IPPROTO_DCCP) * (dns.ProtoDCCP - C.IPPROTO_DCCP))
	_ = uint(-(dns.ProtoSCTP - C.IPPROTO_SCTP) * (dns.ProtoSCTP - C.IPPROTO_SCTP))
	_ = uint(-(dns.ProtoUDPLite - C.IPPROTO_UDPLITE) * (dns.ProtoUDPLite - C.IPPROTO_UDPLITE))
	_ = uint(-(dns.HHostNotFound - C.HOST_NOT_FOUND) * (dns.HHostNotFound - C.HOST_NOT_FOUND))
	_ = uint(-(dns.HTryAgain - C.TRY_AGAIN) * (dns.HTryAgain - C.TRY_AGAIN))
	_ = uint(-(dns.HNoRecovery - C.NO_RECOVERY) * (dns.HNoRecovery - C.NO_RECOVERY))
	_ = uint(-(dns.HNoData - C.NO_DATA) * (dns.HNoData - C.NO_DATA))
)

// The IPv6 getters' kinds.
const (
	_ = uint(-(netif.IP6FilterAll - C.GONETIF_IP6_FILTER_ALL) * (netif.IP6FilterAll - C.GONETIF_IP6_FILTER_ALL))
	_ = uint(-(netif.IP6FilterLinkLocal - C.GONETIF_IP6_FILTER_LINK_LOCAL) * (netif.IP6FilterLinkLocal - C.GONETIF_IP6_FILTER_LINK_LOCAL))
	_ = uint(-(netif.IP6FilterGlobal - C.GONETIF_IP6_FILTER_GLOBAL) * (netif.IP6FilterGlobal - C.GONETIF_IP6_FILTER_GLOBAL))
)

// esp_ip6_addr_type_t as gonetif/netif numbers it (esp_netif.c holds
// these against IDF's enum).
const (
	_ = uint(-(netif.IP6Unknown - C.GONETIF_IP6_UNKNOWN) * (netif.IP6Unknown - C.GONETIF_IP6_UNKNOWN))
	_ = uint(-(netif.IP6Global - C.GONETIF_IP6_GLOBAL) * (netif.IP6Global - C.GONETIF_IP6_GLOBAL))
	_ = uint(-(netif.IP6LinkLocal - C.GONETIF_IP6_LINK_LOCAL) * (netif.IP6LinkLocal - C.GONETIF_IP6_LINK_LOCAL))
	_ = uint(-(netif.IP6SiteLocal - C.GONETIF_IP6_SITE_LOCAL) * (netif.IP6SiteLocal - C.GONETIF_IP6_SITE_LOCAL))
	_ = uint(-(netif.IP6UniqueLocal - C.GONETIF_IP6_UNIQUE_LOCAL) * (netif.IP6UniqueLocal - C.GONETIF_IP6_UNIQUE_LOCAL))
	_ = uint(-(netif.IP6V4Mapped - C.GONETIF_IP6_V4_MAPPED) * (netif.IP6V4Mapped - C.GONETIF_IP6_V4_MAPPED))
)
