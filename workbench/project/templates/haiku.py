import skill
from skill.imports import csi


class Skill(skill.Skill):
    def run(self, in_: str) -> str:
        prompt = f"""Write a haiku about {in_}

### Response:"""

        return csi.complete_text(prompt, "luminous-extended-control")
