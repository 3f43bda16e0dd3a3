enum PipsqueakCorePlaceholder {}
