# `cmake --install` and `make package` (CPack DEB): the binary, its man page and shell
# completions (both generated from the binary itself), the systemd unit and an example
# configuration, in the places Debian puts them.
include(GNUInstallDirs)

set(SG_MAN ${CMAKE_BINARY_DIR}/generated/sessiongate.1)
set(SG_BASH ${CMAKE_BINARY_DIR}/generated/sessiongate.bash)
set(SG_ZSH ${CMAKE_BINARY_DIR}/generated/_sessiongate)
add_custom_command(
  OUTPUT ${SG_MAN} ${SG_BASH} ${SG_ZSH}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/make-manpage $<TARGET_FILE:sessiongate>
          ${CMAKE_SOURCE_DIR}/README.md ${SG_MAN}
  COMMAND $<TARGET_FILE:sessiongate> completion bash > ${SG_BASH}
  COMMAND $<TARGET_FILE:sessiongate> completion zsh > ${SG_ZSH}
  DEPENDS sessiongate ${CMAKE_SOURCE_DIR}/scripts/make-manpage ${CMAKE_SOURCE_DIR}/README.md
  COMMENT "man page and shell completions")
add_custom_target(sg_docs ALL DEPENDS ${SG_MAN} ${SG_BASH} ${SG_ZSH})

install(TARGETS sessiongate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${SG_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${SG_BASH} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME sessiongate)
install(FILES ${SG_ZSH} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/sessiongate.service
        DESTINATION lib/systemd/system)
# The unit reads /etc/sessiongate whatever the prefix (as systemd units do).
set(SG_SYSCONFDIR /etc CACHE PATH "where the example configuration is installed")
install(FILES ${CMAKE_SOURCE_DIR}/packaging/sessiongate.yaml DESTINATION ${SG_SYSCONFDIR}/sessiongate)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sessiongate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "sessiongate maintainers <sessiongate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "session router for preview environments (HTTP/1.1, HTTP/2, TLS, WebSocket)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # runtime libraries, as dpkg-shlibdeps finds them
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
