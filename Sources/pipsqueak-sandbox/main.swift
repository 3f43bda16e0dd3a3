import SandboxSetup

SandboxHelper.main(arguments: Array(CommandLine.arguments.dropFirst()))
