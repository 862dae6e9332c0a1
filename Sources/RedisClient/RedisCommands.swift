import NIOCore
import Timing

// The commands Promptline uses, each a small value with its reply type. Anything else can
// be sent as a ``RawCommand``.

/// Any command, given as its words; answers the raw reply.
package struct RawCommand: RedisCommand {
    package var words: [String]
    package init(_ words: String...) { self.words = words }
    package init(_ words: [String]) { self.words = words }

    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start(words[0])
        encoder.append(contentsOf: words.dropFirst())
        encoder.finish()
    }
}

package struct PING: RedisCommand {
    package typealias Response = String
    package init() {}
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PING")
        encoder.finish()
    }
}

/// `HELLO protover [AUTH username password] [SETNAME name]`: switches the protocol.
package struct HELLO: RedisCommand {
    package var protocolVersion: Int
    package var username: String?
    package var password: String?
    package var clientName: String?

    package init(protocolVersion: Int, username: String? = nil, password: String? = nil, clientName: String? = nil) {
        self.protocolVersion = protocolVersion
        self.username = username
        self.password = password
        self.clientName = clientName
    }

    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("HELLO")
        encoder.append(protocolVersion)
        if let password {
            encoder.append("AUTH")
            encoder.append(username ?? "default")
            encoder.append(password)
        }
        if let clientName {
            encoder.append("SETNAME")
            encoder.append(clientName)
        }
        encoder.finish()
    }
}

package struct AUTH: RedisCommand {
    package typealias Response = RedisOK
    package var username: String?
    package var password: String
    package init(username: String? = nil, password: String) {
        self.username = username
        self.password = password
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("AUTH")
        if let username { encoder.append(username) }
        encoder.append(password)
        encoder.finish()
    }
}

package struct SELECT: RedisCommand {
    package typealias Response = RedisOK
    package var database: Int
    package init(_ database: Int) { self.database = database }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SELECT")
        encoder.append(database)
        encoder.finish()
    }
}

package struct GET: RedisCommand {
    package typealias Response = ByteBuffer?
    package var key: String
    package init(_ key: String) { self.key = key }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("GET")
        encoder.append(key)
        encoder.finish()
    }
}

/// `SET key value [PX milliseconds]`.
package struct SET: RedisCommand {
    package typealias Response = RedisOK
    package var key: String
    package var value: ByteBuffer
    package var expiry: Duration?
    package init(_ key: String, _ value: ByteBuffer, expiry: Duration? = nil) {
        self.key = key
        self.value = value
        self.expiry = expiry
    }
    package init(_ key: String, _ value: String, expiry: Duration? = nil) {
        self.init(key, ByteBuffer(string: value), expiry: expiry)
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SET")
        encoder.append(key)
        encoder.append(value)
        if let expiry {
            encoder.append("PX")
            encoder.append(max(1, expiry.milliseconds))
        }
        encoder.finish()
    }
}

package struct DEL: RedisCommand {
    package typealias Response = Int
    package var keys: [String]
    package init(_ keys: String...) { self.keys = keys }
    package init(_ keys: [String]) { self.keys = keys }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("DEL")
        encoder.append(contentsOf: keys)
        encoder.finish()
    }
}

/// `ZADD key score member …`; answers how many members were added.
package struct ZADD: RedisCommand {
    package typealias Response = Int
    package var key: String
    package var members: [(score: Double, member: String)]
    package init(_ key: String, _ members: [(score: Double, member: String)]) {
        self.key = key
        self.members = members
    }
    package init(_ key: String, score: Double, member: String) {
        self.init(key, [(score, member)])
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZADD")
        encoder.append(key)
        for (score, member) in members {
            encoder.append(score)
            encoder.append(member)
        }
        encoder.finish()
    }
}

package struct ZREM: RedisCommand {
    package typealias Response = Int
    package var key: String
    package var members: [String]
    package init(_ key: String, _ members: String...) {
        self.key = key
        self.members = members
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZREM")
        encoder.append(key)
        encoder.append(contentsOf: members)
        encoder.finish()
    }
}

/// `ZREMRANGEBYSCORE key -inf max`: removes members scored at or below `max`.
package struct ZREMRANGEBYSCORE: RedisCommand {
    package typealias Response = Int
    package var key: String
    package var max: Double
    package init(_ key: String, max: Double) {
        self.key = key
        self.max = max
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZREMRANGEBYSCORE")
        encoder.append(key)
        encoder.append("-inf")
        encoder.append(max)
        encoder.finish()
    }
}

/// `ZRANGE key 0 -1 WITHSCORES`: every member with its score, lowest first.
package struct ZRANGEWITHSCORES: RedisCommand {
    package typealias Response = RESPValue
    package var key: String
    package init(_ key: String) { self.key = key }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZRANGE")
        encoder.append(key)
        encoder.append("0")
        encoder.append("-1")
        encoder.append("WITHSCORES")
        encoder.finish()
    }
}

/// `PEXPIRE key milliseconds`.
package struct PEXPIRE: RedisCommand {
    package typealias Response = Bool
    package var key: String
    package var expiry: Duration
    package init(_ key: String, _ expiry: Duration) {
        self.key = key
        self.expiry = expiry
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PEXPIRE")
        encoder.append(key)
        encoder.append(max(1, expiry.milliseconds))
        encoder.finish()
    }
}

package struct PUBLISH: RedisCommand {
    package typealias Response = Int
    package var channel: String
    package var message: String
    package init(_ channel: String, _ message: String) {
        self.channel = channel
        self.message = message
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PUBLISH")
        encoder.append(channel)
        encoder.append(message)
        encoder.finish()
    }
}

/// `INFO [section]`: the server's report, as text.
package struct INFO: RedisCommand {
    package typealias Response = String
    package var section: String?
    package init(_ section: String? = nil) { self.section = section }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("INFO")
        if let section { encoder.append(section) }
        encoder.finish()
    }
}

/// `CONFIG GET parameter`: answers the value, or `nil` when there is no such parameter.
package struct CONFIGGET: RedisCommand {
    package struct Response: RESPDecodable {
        package var value: String?
        package init(fromRESP value: RESPValue) throws(RedisClientError) {
            guard let elements = value.elements else { throw Self.mismatch(value) }
            self.value = elements.count >= 2 ? elements[1].string : nil
        }
    }
    package var parameter: String
    package init(_ parameter: String) { self.parameter = parameter }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("CONFIG")
        encoder.append("GET")
        encoder.append(parameter)
        encoder.finish()
    }
}

/// `SCRIPT LOAD source`: answers the script's SHA1.
package struct SCRIPTLOAD: RedisCommand {
    package typealias Response = String
    package var source: String
    package init(_ source: String) { self.source = source }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SCRIPT")
        encoder.append("LOAD")
        encoder.append(source)
        encoder.finish()
    }
}

/// `EVALSHA sha numkeys key… arg…`.
package struct EVALSHA: RedisCommand {
    package var sha: String
    package var keys: [String]
    package var arguments: [RedisScript.Argument]
    package init(sha: String, keys: [String], arguments: [RedisScript.Argument]) {
        self.sha = sha
        self.keys = keys
        self.arguments = arguments
    }
    package func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("EVALSHA")
        encoder.append(sha)
        encoder.append(keys.count)
        encoder.append(contentsOf: keys)
        for argument in arguments { argument.encode(into: &encoder) }
        encoder.finish()
    }
}
