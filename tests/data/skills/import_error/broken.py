import skill
import no_such_module


class Skill(skill.Skill):
    def run(self, in_: str) -> str:
        return no_such_module.reply(in_)
