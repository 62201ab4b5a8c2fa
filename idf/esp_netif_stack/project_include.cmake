# Included by IDF for every component in the build, after the component
# manager has added the components an example's idf_component.yml names.
# Those come after EXTRA_COMPONENT_DIRS and so win over same-name
# components of ours: point them back at gonetif's.
get_filename_component(_gonetif_idf "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
idf_build_get_property(_gonetif_prefix __PREFIX)
foreach(_gonetif_name protocol_examples_tapif_io protocol_examples_common esp_stubs)
    set(_gonetif_target "___${_gonetif_prefix}_${_gonetif_name}")
    if(TARGET ${_gonetif_target})
        __component_get_property(_gonetif_dir ${_gonetif_target} COMPONENT_DIR)
        if(NOT _gonetif_dir STREQUAL "${_gonetif_idf}/${_gonetif_name}")
            message(STATUS "gonetif: component ${_gonetif_name} from ${_gonetif_idf}/${_gonetif_name} (not ${_gonetif_dir})")
            __component_set_property(${_gonetif_target} COMPONENT_DIR "${_gonetif_idf}/${_gonetif_name}")
        endif()
    endif()
endforeach()
