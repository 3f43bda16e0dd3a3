enum PipsqueakWorkerPlaceholder {}
