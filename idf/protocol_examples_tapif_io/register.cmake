# Registers one of gonetif's two example components (this one, and
# protocol_examples_common, which reuses its headers) with the sources given.
macro(gonetif_register_example_component)
    idf_component_register(SRCS ${ARGV}
                           INCLUDE_DIRS "${CMAKE_CURRENT_LIST_DIR}/../protocol_examples_tapif_io/include"
                                        ${gonetif_example_include_dirs}
                           REQUIRES esp_netif esp_event
                           PRIV_REQUIRES esp_netif_stack freertos log)
    # Re-pointed over IDF's component of this name, the requirements IDF
    # read were that one's: state ours as links.
    if(NOT CMAKE_BUILD_EARLY_EXPANSION)
        target_link_libraries(${COMPONENT_LIB} PUBLIC idf::esp_netif idf::esp_event idf::freertos idf::log
                              idf::esp_netif_stack)
    endif()
endmacro()
