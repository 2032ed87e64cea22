# Compiles the web page (src/dyndns/web/*.html|js|css|svg) into ddns_dyndns:
# a generated web_assets.cc holds each file as a byte array, so ddnsd needs
# no files at run time and the page always matches the binary.
set(DDNS_WEB_DIR ${CMAKE_SOURCE_DIR}/src/dyndns/web)
file(GLOB DDNS_WEB_ASSETS CONFIGURE_DEPENDS
  ${DDNS_WEB_DIR}/*.html ${DDNS_WEB_DIR}/*.js ${DDNS_WEB_DIR}/*.css ${DDNS_WEB_DIR}/*.svg)
set(DDNS_WEB_OUT ${CMAKE_BINARY_DIR}/generated/web_assets.cc)
add_custom_command(
  OUTPUT ${DDNS_WEB_OUT}
  COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${DDNS_WEB_DIR} -DOUT=${DDNS_WEB_OUT}
          -P ${DDNS_WEB_DIR}/embed_gen.cmake
  DEPENDS ${DDNS_WEB_ASSETS} ${DDNS_WEB_DIR}/embed_gen.cmake
  COMMENT "Embedding web page assets"
  VERBATIM)
target_sources(ddns_dyndns PRIVATE ${DDNS_WEB_OUT})
