enum PipsqueakSandboxPlaceholder {}
