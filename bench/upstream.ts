/**
 * The benchmark's upstream: the fake OpenAI API of the tests, answering 50-chunk streams or one
 * JSON body. `deno run -A bench/upstream.ts <port>`.
 *
 * @module
 */
import { startFakeOpenAi } from "../tests/fakes/openai.ts";

const fake = await startFakeOpenAi({ record: false });
// 200 characters in pieces of 4 = 50 content chunks.
const text = "abcd".repeat(50);
fake.respond = () => ({ text, pieceSize: 4 });
// The parent reads the port from the first line.
console.log(new URL(fake.origin).port);
