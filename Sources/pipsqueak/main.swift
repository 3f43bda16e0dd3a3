import PipsqueakCLI

await PipsqueakCommand.runMain()
