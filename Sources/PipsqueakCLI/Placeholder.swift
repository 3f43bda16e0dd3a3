enum PipsqueakCLIPlaceholder {}
