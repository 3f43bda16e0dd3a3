enum PipsqueakCachePlaceholder {}
