await AiAssistant.ProviderSimulator.SimulatorServer.RunAsync(args);
