using System.Text.Json;

namespace AiAssistant.ProviderSimulator.OpenAi;

/// <summary>The few fields of a Chat Completions request the simulator acts on, read in one pass without building a DOM.</summary>
internal readonly record struct ChatCompletionRequest(string Model, bool Stream, bool IncludeUsage, int PromptTokens, string? LastRole = null)
{
    /// <exception cref="JsonException">The body is not a JSON object.</exception>
    public static ChatCompletionRequest Parse(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The request body must be a JSON object.");
        }

        string model = "unknown";
        bool stream = false, includeUsage = false;
        int messageBytes = 0;
        string? lastRole = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                model = reader.TokenType == JsonTokenType.String ? reader.GetString()! : model;
            }
            else if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                stream = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("stream_options"u8))
            {
                reader.Read();
                includeUsage = ReadIncludeUsage(ref reader);
            }
            else if (reader.ValueTextEquals("messages"u8))
            {
                reader.Read();
                messageBytes = CountStringBytes(ref reader, out lastRole);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Roughly four bytes of text per token, as OpenAI's own rule of thumb says.
        return new ChatCompletionRequest(model, stream, includeUsage, Math.Max(1, (messageBytes + 3) / 4), lastRole);
    }

    private static bool ReadIncludeUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        bool includeUsage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (isIncludeUsage)
            {
                includeUsage = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Skip();
            }
        }

        return includeUsage;
    }

    /// <summary>The bytes of every string in the messages, and the role of the last message.</summary>
    private static int CountStringBytes(ref Utf8JsonReader reader, out string? lastRole)
    {
        lastRole = null;
        if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            return 0;
        }

        int depth = reader.CurrentDepth, bytes = 0;
        bool nextIsRole = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                nextIsRole = reader.CurrentDepth == depth + 2 && reader.ValueTextEquals("role"u8);
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                bytes += reader.ValueSpan.Length;
                if (nextIsRole)
                {
                    lastRole = reader.GetString();
                }

                nextIsRole = false;
            }
        }

        return bytes;
    }
}
