namespace AiAssistant.ServiceDefaults; public static class Placeholder {}
