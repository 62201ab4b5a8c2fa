# gonetif_gvisorfix(ROOT DIR OUT_STAMP OUT_FLAGS): a build step that writes
# the overlay fixing bugs of the pinned gVisor (cmd/gvisorfix, DESIGN D17)
# into DIR. OUT_FLAGS gets the go build flags that use it, OUT_STAMP a file
# to depend on; a target using it also depends on the target
# gonetif_gvisorfix, which alone runs the step (with make, two targets
# listing the same output would each run it at once, and collide). It reruns when go.mod, go.sum, the generator or the files it
# adds change, and fails the build when an edit no longer applies to the
# pinned gVisor.
function(gonetif_gvisorfix root dir out_stamp out_flags)
    file(GLOB fix_srcs CONFIGURE_DEPENDS "${root}/internal/gvisorfix/*.go" "${root}/cmd/gvisorfix/*.go")
    list(FILTER fix_srcs EXCLUDE REGEX "_test\\.go$")
    # The files the overlay adds to gVisor's packages.
    file(GLOB_RECURSE fix_added CONFIGURE_DEPENDS "${root}/internal/gvisorfix/add/*.go.txt")
    list(APPEND fix_srcs ${fix_added})
    add_custom_command(
        OUTPUT "${dir}/stamp"
        # GOFLAGS emptied: a -modfile/-overlay of an earlier run may be gone.
        COMMAND ${CMAKE_COMMAND} -E env GOFLAGS= "${GONETIF_GO}" run ./cmd/gvisorfix -o "${dir}"
        COMMAND ${CMAKE_COMMAND} -E touch "${dir}/stamp"
        WORKING_DIRECTORY "${root}"
        DEPENDS ${fix_srcs} "${root}/go.mod" "${root}/go.sum"
        COMMENT "Writing the gVisor fix overlay (cmd/gvisorfix)"
        VERBATIM)
    add_custom_target(gonetif_gvisorfix DEPENDS "${dir}/stamp")
    set(${out_stamp} "${dir}/stamp" PARENT_SCOPE)
    set(${out_flags} "-modfile=${dir}/go.mod" "-overlay=${dir}/overlay.json" PARENT_SCOPE)
endfunction()
