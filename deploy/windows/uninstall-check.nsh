; Uninstall check of the Backroom desktop app, included by electron-builder (nsis.include in electron-builder.yml).
;
; Before anything is removed, the uninstaller asks the installed app's own CLI what would be abandoned:
;
;   Backroom.exe resources\app.asar\dist\src-main\cli\index.js unsynced --config %APPDATA%\Backroom\backroom.json
;
; run as plain Node (ELECTRON_RUN_AS_NODE=1: keep Electron's RunAsNode fuse on, or this check cannot run). It asks
; the running agent if there is one, else reads the database. Exit 0: nothing pending and nothing open, the
; uninstall goes on. Exit 3: it printed what is pending where and the `backroom export --unsynced` command; the
; user uninstalls anyway or cancels (Cancel is the default button). Any other result means the check could not
; run: it says so, with the same choice.
;
; Not asked: upgrades (electron-builder runs the old uninstaller with --updated; the data stays and the new
; version sends it) and silent uninstalls (/S: whoever scripts them decides; /SD IDOK goes on). Uninstalling never
; deletes the data folder (deleteAppDataOnUninstall: false), but nothing sends what is in it afterwards.
;
; The config checked is the one of the user running the uninstaller (Electron keeps it per user, under
; %APPDATA%\Backroom, even for a per-machine install); a config moved with BACKROOM_CONFIG is not found.

!macro customUnInit
  ${ifNot} ${isUpdated}
    Call un.backroomCheckUnsynced
  ${endIf}
!macroend

!ifdef BUILD_UNINSTALLER
Function un.backroomCheckUnsynced
  Push $R0
  Push $R1
  Push $R2

  SetShellVarContext current
  StrCpy $R0 "$APPDATA\${PRODUCT_NAME}\backroom.json"
  ${if} $installMode == "all"
    SetShellVarContext all
  ${endIf}

  ${ifNot} ${FileExists} "$R0"
    ; The app never ran for this user: nothing can be pending.
    Goto done
  ${endIf}

  System::Call 'Kernel32::SetEnvironmentVariable(t "ELECTRON_RUN_AS_NODE", t "1")'
  nsExec::ExecToStack /TIMEOUT=60000 '"$INSTDIR\${APP_EXECUTABLE_FILENAME}" "$INSTDIR\resources\app.asar\dist\src-main\cli\index.js" unsynced --config "$R0"'
  Pop $R1 ; the exit code, or "error" / "timeout"
  Pop $R2 ; what it printed
  System::Call 'Kernel32::SetEnvironmentVariable(t "ELECTRON_RUN_AS_NODE", p 0)'

  ${if} $R1 == "0"
    Goto done
  ${elseIf} $R1 == "3"
    MessageBox MB_OKCANCEL|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "Backroom has not finished its work on this PC.$\r$\n$\r$\n$R2$\r$\nUninstall anyway?" /SD IDOK IDOK done
  ${else}
    MessageBox MB_OKCANCEL|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "Backroom could not check for unsent events (result: $R1).$\r$\n$\r$\n$R2$\r$\nUninstall anyway?" /SD IDOK IDOK done
  ${endIf}
  ; Cancel: leave everything as it is.
  Quit

  done:
  Pop $R2
  Pop $R1
  Pop $R0
FunctionEnd
!endif
